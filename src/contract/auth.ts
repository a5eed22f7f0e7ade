import { type Static, Type } from '@sinclair/typebox';
import { NullableTimestamp, RoleSchema, Timestamp } from './common.js';
import { UserSchema } from './users.js';

/** Sessions (03 §1 authentication) and personal access tokens (03 §2). */

/** `TokenResponse` of 03 §0.6 common shapes: a session, from every sign-in route. */
export const TokenResponseSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
  expires_at: Timestamp,
  user_id: Type.String(),
  email: Type.String(),
  role: RoleSchema,
});
export type TokenResponse = Static<typeof TokenResponseSchema>;

/** A personal access token as listed: never the token or its hash, only the display prefix. */
export const PersonalTokenSchema = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  name: Type.String(),
  prefix: Type.String(),
  created_at: Timestamp,
  expires_at: NullableTimestamp,
  last_used_at: NullableTimestamp,
  revoked_at: NullableTimestamp,
});
export type PersonalToken = Static<typeof PersonalTokenSchema>;

export const PersonalTokenListSchema = Type.Object({ tokens: Type.Array(PersonalTokenSchema) });
export type PersonalTokenList = Static<typeof PersonalTokenListSchema>;

/** The only answer that holds the token itself. */
export const CreatedTokenSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  token: Type.String(),
  prefix: Type.String(),
  expires_at: NullableTimestamp,
});
export type CreatedToken = Static<typeof CreatedTokenSchema>;

/** `GET /auth/me`: the signed-in user and the credential in use. */
export const MeResponseSchema = Type.Composite([
  UserSchema,
  Type.Object({
    auth: Type.Object({
      method: Type.Union([Type.Literal('jwt'), Type.Literal('pat'), Type.Literal('ws_ticket')]),
      via: Type.Union([Type.Literal('bearer'), Type.Literal('cookie')]),
      issued_at: Type.String(),
      expires_at: Type.Union([Type.String(), Type.Null()]),
      token_id: Type.String(),
    }),
    /** The stored user attributes (12 §4); the derived ones are the fields above. */
    attributes: Type.Record(Type.String(), Type.Array(Type.String())),
  }),
]);
export type MeResponse = Static<typeof MeResponseSchema>;

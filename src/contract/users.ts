import { type Static, Type } from '@sinclair/typebox';
import { NullableTimestamp, PageFields, RoleSchema, Timestamp } from './common.js';

/** `User` of 03 §0.6 and the user-management answers (03 §8). */

export const UserSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  active: Type.Boolean(),
  is_service: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
  last_login_at: NullableTimestamp,
  groups: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
});
export type User = Static<typeof UserSchema>;

export const UserListSchema = Type.Object({ users: Type.Array(UserSchema), ...PageFields });
export type UserList = Static<typeof UserListSchema>;

/** `setup_url` only when no invitation email went out, so the admin can pass the link on. */
export const CreatedUserSchema = Type.Composite([
  UserSchema,
  Type.Object({ invite_sent: Type.Boolean(), setup_url: Type.Optional(Type.String()) }),
]);
export type CreatedUser = Static<typeof CreatedUserSchema>;

export const InviteResponseSchema = Type.Object({
  invite_sent: Type.Boolean(),
  setup_url: Type.Optional(Type.String()),
  expires_at: Timestamp,
});
export type InviteResponse = Static<typeof InviteResponseSchema>;

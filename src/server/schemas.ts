import { type TProperties, type TSchema, Type } from '@sinclair/typebox';
import type { PageRequest } from '../core/state/repositories/index.js';

/** Shapes shared by several routers (03 §0.2, §0.6), declared once for validation, types and OpenAPI. */

export const ErrorBody = Type.Object(
  {
    detail: Type.String(),
    code: Type.String(),
    request_id: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { additionalProperties: true, $id: 'ErrorBody' },
);

export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Password = Type.String({ minLength: 1, maxLength: 256 });
export const Uuid = Type.String({ format: 'uuid' });
export const Timestamp = Type.String({ format: 'date-time' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
export const RoleSchema = Type.Union([
  Type.Literal('viewer'),
  Type.Literal('analyst'),
  Type.Literal('km_admin'),
  Type.Literal('admin'),
]);

export const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('bearer'),
  expires_in: Type.Integer(),
  expires_at: Timestamp,
  user_id: Type.String(),
  email: Type.String(),
  role: RoleSchema,
});

export const GroupRef = Type.Object({ id: Type.String(), name: Type.String() });

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
  groups: Type.Array(GroupRef),
});

export const MessageResponse = Type.Object({ message: Type.String() });

export const Paging = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});

/** A query string with paging (03 §0.4) plus the route's own filters; unknown parameters → 422. */
export function PagedQuery<T extends TProperties>(filters: T) {
  return Type.Object({ ...Paging.properties, ...filters }, { additionalProperties: false });
}

/** `total`, `page` and `per_page`, which sit next to a list route's collection key. */
export const PageFields = {
  total: Type.Integer(),
  page: Type.Integer(),
  per_page: Type.Integer(),
};

/** The page a validated query asks for (the schema already applied the defaults). */
export function pageOf(query: { page?: number; per_page?: number }): PageRequest {
  return { page: query.page ?? 1, per_page: query.per_page ?? 50 };
}

/** An object id in a path, query or body: unknown ids are a 404, never a schema error. */
export const Id = Type.String({ minLength: 1, maxLength: 100 });

export const AccessSchema = Type.Union([Type.Literal('read'), Type.Literal('none')]);

/** Every error status a route can answer, as OpenAPI responses. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBody]));
}

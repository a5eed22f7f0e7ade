import { type TProperties, type TSchema, Type } from '@sinclair/typebox';
import { ErrorBodySchema } from '../contract/index.js';
import type { PageRequest } from '../core/state/repositories/index.js';

/**
 * What several routers' schemas share (03 §0 conventions): request fields, paging and the error responses.
 * The shapes clients read are declared in `src/contract`; the ones routes build on or import from
 * here are re-exported.
 */

export {
  AccessSchema,
  NullableTimestamp,
  PageFields,
  RoleSchema,
  Timestamp,
  TokenResponseSchema as TokenResponse,
} from '../contract/index.js';

export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Password = Type.String({ minLength: 1, maxLength: 256 });
export const Uuid = Type.String({ format: 'uuid' });

export const MessageResponse = Type.Object({ message: Type.String() });

export const Paging = Type.Object({
  page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })),
  per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
});

/** A query string with paging (03 §0.4 pagination) plus the route's own filters; unknown parameters → 422. */
export function PagedQuery<T extends TProperties>(filters: T) {
  return Type.Object({ ...Paging.properties, ...filters }, { additionalProperties: false });
}

/** The page a validated query asks for (the schema already applied the defaults). */
export function pageOf(query: { page?: number; per_page?: number }): PageRequest {
  return { page: query.page ?? 1, per_page: query.per_page ?? 50 };
}

/** An object id in a path, query or body: unknown ids are a 404, never a schema error. */
export const Id = Type.String({ minLength: 1, maxLength: 100 });

/** Every error status a route can answer, as OpenAPI responses. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBodySchema]));
}

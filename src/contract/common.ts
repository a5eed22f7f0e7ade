import { type Static, Type } from '@sinclair/typebox';

/** Building blocks of the wire shapes (03 §0.3 requests, §0.4, §0.6). */

/** ISO 8601 UTC with `Z` (03 §0.3 requests). */
export const Timestamp = Type.String({ format: 'date-time' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
export const NullableString = Type.Union([Type.String(), Type.Null()]);

export const RoleSchema = Type.Union([
  Type.Literal('viewer'),
  Type.Literal('analyst'),
  Type.Literal('km_admin'),
  Type.Literal('admin'),
]);
export type Role = Static<typeof RoleSchema>;

/** A grant's access; `none` grants nothing and denies nothing (04 §6.1). */
export const AccessSchema = Type.Union([Type.Literal('read'), Type.Literal('none')]);
export type Access = Static<typeof AccessSchema>;

/** `total`, `page` and `per_page`, which sit next to a list route's collection key (03 §0.4 pagination). */
export const PageFields = {
  total: Type.Integer(),
  page: Type.Integer(),
  per_page: Type.Integer(),
};

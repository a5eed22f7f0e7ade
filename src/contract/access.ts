import { type Static, Type } from '@sinclair/typebox';
import { AccessSchema, NullableString, NullableTimestamp, PageFields, Timestamp } from './common.js';
import { PolicyCheckSchema } from './policies.js';

/** Who may read what: groups (03 §9), user grants (03 §10) and access requests (03 §11). */

export const GroupSummarySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: NullableString,
  member_count: Type.Integer(),
  permission_count: Type.Integer(),
});
export type GroupSummary = Static<typeof GroupSummarySchema>;

export const GroupListSchema = Type.Object({ groups: Type.Array(GroupSummarySchema), ...PageFields });
export type GroupList = Static<typeof GroupListSchema>;

export const UserGrantSchema = Type.Object({
  user_id: Type.String(),
  dataset: Type.String(),
  access: AccessSchema,
  granted_by: NullableString,
  granted_at: NullableTimestamp,
});
export type UserGrant = Static<typeof UserGrantSchema>;

export const UserGrantListSchema = Type.Object({
  permissions: Type.Array(Type.Composite([UserGrantSchema, Type.Object({ email: Type.String() })])),
  ...PageFields,
});
export type UserGrantList = Static<typeof UserGrantListSchema>;

export const GrantRevokedSchema = Type.Object({ revoked: Type.Boolean() });
export type GrantRevoked = Static<typeof GrantRevokedSchema>;

/** A user's own and group grants, and the tables the access function lets them read. */
export const UserPermissionsSchema = Type.Object({
  user_id: Type.String(),
  permissions: Type.Array(
    Type.Object({
      dataset: Type.String(),
      access: AccessSchema,
      granted_by: NullableString,
      granted_at: NullableTimestamp,
    }),
  ),
  group_permissions: Type.Array(
    Type.Object({
      group_id: Type.String(),
      group_name: Type.String(),
      dataset: Type.String(),
      access: AccessSchema,
    }),
  ),
  readable_tables: Type.Array(Type.String()),
});
export type UserPermissions = Static<typeof UserPermissionsSchema>;

/** The access function's answer for one user and table, with the rule that decided it (04 §6.1). */
export const AccessCheckSchema = Type.Object({
  allowed: Type.Boolean(),
  reason: Type.Union(
    [
      'admin',
      'public',
      'user_grant',
      'group_grant',
      'bucket_grant',
      'unregistered',
      'no_grant',
      'inactive',
    ].map((reason) => Type.Literal(reason)),
  ),
  via: NullableString,
  /** What row policies let the user see of the table (12 §4). */
  policy: PolicyCheckSchema,
});
export type AccessCheck = Static<typeof AccessCheckSchema>;

export const AccessRequestSchema = Type.Object({
  id: Type.String(),
  user_id: Type.String(),
  user_email: Type.String(),
  table_id: Type.String(),
  table_name: NullableString,
  reason: NullableString,
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('approved'),
    Type.Literal('denied'),
    Type.Literal('cancelled'),
  ]),
  reviewed_by: NullableString,
  reviewed_by_email: NullableString,
  reviewed_at: NullableTimestamp,
  review_note: NullableString,
  created_at: Timestamp,
});
export type AccessRequest = Static<typeof AccessRequestSchema>;

export const AccessRequestListSchema = Type.Object({
  requests: Type.Array(AccessRequestSchema),
  ...PageFields,
});
export type AccessRequestList = Static<typeof AccessRequestListSchema>;

/** The admins' review queue; `count` repeats `total` (03 §11). */
export const PendingAccessRequestsSchema = Type.Object({
  requests: Type.Array(AccessRequestSchema),
  count: Type.Integer(),
  ...PageFields,
});
export type PendingAccessRequests = Static<typeof PendingAccessRequestsSchema>;

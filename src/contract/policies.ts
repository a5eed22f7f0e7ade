import { type Static, Type } from '@sinclair/typebox';
import { NullableString, Timestamp } from './common.js';
import { QueryResultSchema } from './query.js';

/** Row and column policies and user attributes (12 §1, §4). */

/** `{column, mask}` wherever masked columns appear. */
export const MaskedColumnSchema = Type.Object(
  {
    column: Type.String({ minLength: 1, maxLength: 255 }),
    mask: Type.Union([Type.Literal('null'), Type.Literal('hash')]),
  },
  { additionalProperties: false },
);
export type MaskedColumnEntry = Static<typeof MaskedColumnSchema>;

const TargetIds = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 1000 });

/** Whom a policy applies to: at least one target (12 §1). */
export const AppliesToSchema = Type.Object(
  { everyone: Type.Boolean(), users: TargetIds, groups: TargetIds },
  { additionalProperties: false },
);

export const RowPolicySchema = Type.Object({
  id: Type.String(),
  table_id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  applies_to: AppliesToSchema,
  row_filter: NullableString,
  masked_columns: Type.Array(MaskedColumnSchema),
  enabled: Type.Boolean(),
  /** Why the policy no longer binds (12 §2), or null. */
  error: NullableString,
  created_by: NullableString,
  created_at: Timestamp,
  updated_by: NullableString,
  updated_at: Timestamp,
});
export type RowPolicyView = Static<typeof RowPolicySchema>;

export const RowPolicyListSchema = Type.Object({ policies: Type.Array(RowPolicySchema) });
export type RowPolicyList = Static<typeof RowPolicyListSchema>;

const inputFields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  applies_to: AppliesToSchema,
  description: Type.Optional(Type.String({ maxLength: 2000 })),
  /** A filter of 12 §2; null shows all rows. */
  row_filter: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 4000 }), Type.Null()])),
  masked_columns: Type.Optional(Type.Array(MaskedColumnSchema, { maxItems: 1000 })),
  enabled: Type.Optional(Type.Boolean()),
};

/**
 * `RowPolicyInput` (12 §4): `description` "", `row_filter` null, `masked_columns` [] and
 * `enabled` true when left out on create. No schema defaults: on PUT a field left out keeps its
 * stored value.
 */
export const RowPolicyInputSchema = Type.Object(inputFields, { additionalProperties: false });
export type RowPolicyInput = Static<typeof RowPolicyInputSchema>;

/** PUT: any `RowPolicyInput` field; a given field replaces the stored value whole. */
export const RowPolicyPatchSchema = Type.Partial(RowPolicyInputSchema, { additionalProperties: false });
export type RowPolicyPatch = Static<typeof RowPolicyPatchSchema>;

/** 12 §1: the key pattern; `email`, `user_id` and `groups` match it but are derived, never stored. */
export const ATTRIBUTE_KEY_PATTERN = '^[a-z][a-z0-9_]{0,39}$';

/** 1–200 characters kept exactly as given; Unicode control characters (Cc) refused. */
const AttributeValue = Type.String({ minLength: 1, maxLength: 200, pattern: '^\\P{Cc}*$' });

export const AttributeMapSchema = Type.Record(
  Type.String({ pattern: ATTRIBUTE_KEY_PATTERN }),
  Type.Array(AttributeValue, { maxItems: 50 }),
  { additionalProperties: false },
);
export type AttributeMap = Static<typeof AttributeMapSchema>;

/** `PUT /api/admin/users/{id}/attributes`: replaces every stored key. */
export const UserAttributesInputSchema = Type.Object(
  { attributes: AttributeMapSchema },
  { additionalProperties: false },
);

export const UserAttributesSchema = Type.Object({
  attributes: Type.Record(Type.String(), Type.Array(Type.String())),
  /** What placeholders bind besides the stored keys: `groups` are group names. */
  derived: Type.Object({ email: Type.String(), user_id: Type.String(), groups: Type.Array(Type.String()) }),
});
export type UserAttributesView = Static<typeof UserAttributesSchema>;

/** `policy` of `GET /api/admin/access-check`: null for an unbound table or an admin. */
export const PolicyCheckSchema = Type.Union([
  Type.Object({
    kind: Type.Union([Type.Literal('slice'), Type.Literal('empty')]),
    policies: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
    bound_filter: NullableString,
    masked_columns: Type.Array(MaskedColumnSchema),
    /** The failing policies and why, or null when every applicable one binds. */
    error: NullableString,
  }),
  Type.Null(),
]);
export type PolicyCheck = Static<typeof PolicyCheckSchema>;

/** `POST /api/admin/policies/preview`: the saved policies, a draft replacing the saved one of its name or added. */
export const PolicyPreviewInputSchema = Type.Object(
  {
    table_id: Type.String({ minLength: 1, maxLength: 200 }),
    user_id: Type.String({ minLength: 1, maxLength: 100 }),
    policy: Type.Optional(RowPolicyInputSchema),
  },
  { additionalProperties: false },
);
export type PolicyPreviewInput = Static<typeof PolicyPreviewInputSchema>;

/** What the user would see of the table: nothing is stored (12 §4). */
export const PolicyPreviewSchema = Type.Object({
  kind: Type.Union([Type.Literal('full'), Type.Literal('slice'), Type.Literal('empty')]),
  policies: Type.Array(Type.Object({ id: Type.String(), name: Type.String() })),
  bound_filter: NullableString,
  masked_columns: Type.Array(MaskedColumnSchema),
  /** Every row the user would see. */
  rows: Type.Integer({ minimum: 0 }),
  /** At most 20 of them. */
  sample: QueryResultSchema,
});
export type PolicyPreview = Static<typeof PolicyPreviewSchema>;

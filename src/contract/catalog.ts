import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp } from './common.js';
import { MaskedColumnSchema, RowPolicySchema } from './policies.js';

/** The catalog's answers (03 §7): what a caller may know about tables and metric definitions. */

const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
export const CatalogAccessSchema = Type.Union([
  Type.Literal('read'),
  Type.Literal('none'),
  Type.Literal('pending'),
]);
export type CatalogAccess = Static<typeof CatalogAccessSchema>;

const catalogTableProperties = {
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  source: Type.String(),
  source_type: Type.String(),
  dataset: Type.String(),
  bucket: Type.String(),
  query_mode: Type.String(),
  sync_strategy: Type.String(),
  access: CatalogAccessSchema,
  rows: Type.Optional(NullableInt),
  size_bytes: Type.Optional(NullableInt),
  updated: Type.Optional(NullableTimestamp),
  has_profile: Type.Optional(Type.Boolean()),
  tags: Type.Optional(Type.Array(Type.String())),
  owners: Type.Optional(Type.Array(Type.String())),
  tier: Type.Optional(NullableString),
  /** The table's page in the external catalog (07 §6 OpenMetadata), when it has an entry there. */
  catalog_link: Type.Optional(NullableString),
};

/**
 * `CatalogTable`: `rows`, `size_bytes`, `updated` and `has_profile` only for readers; `owners`,
 * `tags`, `tier` and `catalog_link` only when the external catalog knows the table.
 */
export const CatalogTableSchema = Type.Object(catalogTableProperties);
export type CatalogTable = Static<typeof CatalogTableSchema>;

const ColumnView = Type.Object({
  name: Type.String(),
  type: Type.String(),
  description: NullableString,
  tags: Type.Array(Type.String()),
});

const SyncInfo = Type.Object({
  status: Type.String(),
  layout: Type.String(),
  query_mode: Type.String(),
  last_sync: NullableTimestamp,
  extracted_at: NullableTimestamp,
  rows: NullableInt,
  size_bytes: NullableInt,
  file_count: Type.Integer(),
  error: NullableString,
});

/**
 * What row policies do to the table for the caller (12 §4): null when they are not bound; a bound
 * reader learns which policies apply and which columns are masked; an admin gets the table's
 * policies, each with why it fails to bind if it does.
 */
export const TablePolicySchema = Type.Union([
  Type.Object({
    names: Type.Array(Type.String()),
    masked_columns: Type.Array(MaskedColumnSchema),
    rows_visible: Type.Union([Type.Literal('filtered'), Type.Literal('none')]),
  }),
  Type.Object({ policies: Type.Array(RowPolicySchema) }),
  Type.Null(),
]);
export type TablePolicy = Static<typeof TablePolicySchema>;

/** Detail: readers also get the key, columns, sync info, when the profile was taken and the policy. */
export const TableDetailSchema = Type.Object({
  ...catalogTableProperties,
  primary_key: Type.Optional(Type.Array(Type.String())),
  columns: Type.Optional(Type.Array(ColumnView)),
  sync: Type.Optional(Type.Union([SyncInfo, Type.Null()])),
  profiled_at: Type.Optional(NullableTimestamp),
  policy: Type.Optional(TablePolicySchema),
});
export type TableDetail = Static<typeof TableDetailSchema>;

export const MetricSummarySchema = Type.Object({
  path: Type.String(),
  name: Type.String(),
  display_name: Type.String(),
  category: Type.String(),
  grain: NullableString,
  tables: Type.Array(Type.String()),
});
export type MetricSummary = Static<typeof MetricSummarySchema>;

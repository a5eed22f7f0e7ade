import { type Static, Type } from '@sinclair/typebox';
import { NullableTimestamp, Timestamp } from './common.js';
import { JobSchema, SourceReportSchema } from './jobs.js';

/** The table registry's answers (03 §12 administration): registered rows, discovery, sources and the change answers. */

export const SyncStrategySchema = Type.Union([
  Type.Literal('full_refresh'),
  Type.Literal('incremental'),
  Type.Literal('partitioned'),
]);
export const QueryModeSchema = Type.Union([Type.Literal('local'), Type.Literal('remote')]);
export const GranularitySchema = Type.Union([
  Type.Literal('day'),
  Type.Literal('month'),
  Type.Literal('year'),
]);

export const RegistryRowSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  source: Type.String(),
  source_type: Type.String(),
  bucket: Type.String(),
  source_table: Type.Union([Type.String(), Type.Null()]),
  sync_strategy: SyncStrategySchema,
  query_mode: QueryModeSchema,
  sync_schedule: Type.Union([Type.String(), Type.Null()]),
  profile_after_sync: Type.Boolean(),
  primary_key: Type.Array(Type.String()),
  partition_by: Type.Union([Type.String(), Type.Null()]),
  partition_granularity: Type.Union([GranularitySchema, Type.Null()]),
  folder: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  registered_by: Type.Union([Type.String(), Type.Null()]),
  is_public: Type.Boolean(),
  is_discoverable: Type.Boolean(),
  catalog_fqn: Type.Union([Type.String(), Type.Null()]),
  registered_at: Timestamp,
  updated_at: NullableTimestamp,
});
export type RegistryRow = Static<typeof RegistryRowSchema>;

export const RegistryListSchema = Type.Object({
  tables: Type.Array(RegistryRowSchema),
  count: Type.Integer(),
});
export type RegistryList = Static<typeof RegistryListSchema>;

/** A table a source offers, with the id it would get and whether it is registered already. */
export const DiscoveredTableSchema = Type.Object({
  source: Type.String(),
  source_type: Type.String(),
  suggested_id: Type.String(),
  name: Type.String(),
  bucket: Type.String(),
  source_table: Type.String(),
  columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String() })),
  rows: Type.Union([Type.Integer(), Type.Null()]),
  size_bytes: Type.Union([Type.Integer(), Type.Null()]),
  primary_key: Type.Array(Type.String()),
  last_change: NullableTimestamp,
  registered: Type.Boolean(),
});
export type DiscoveredTable = Static<typeof DiscoveredTableSchema>;

/** A source whose discovery failed is listed with one generic error, its tables left out. */
export const DiscoveredTablesSchema = Type.Object({
  tables: Type.Array(DiscoveredTableSchema),
  count: Type.Integer(),
  sources: Type.Array(
    Type.Object({
      name: Type.String(),
      status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
      error: Type.Optional(Type.String()),
    }),
  ),
});
export type DiscoveredTables = Static<typeof DiscoveredTablesSchema>;

export const SourceSummarySchema = Type.Object({
  name: Type.String(),
  type: Type.String(),
  configured: Type.Boolean(),
  push: Type.Boolean(),
  tables_registered: Type.Integer(),
  last_rebuild: Type.Union([
    Type.Pick(SourceReportSchema, ['status', 'reason', 'tables', 'remote_tables', 'skipped_tables']),
    Type.Null(),
  ]),
  last_job: Type.Union([JobSchema, Type.Null()]),
});
export type SourceSummary = Static<typeof SourceSummarySchema>;

export const SourceListSchema = Type.Object({ sources: Type.Array(SourceSummarySchema) });
export type SourceList = Static<typeof SourceListSchema>;

export const RegisteredTableSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  status: Type.Literal('registered'),
  job_id: Type.Optional(Type.String()),
});
export type RegisteredTable = Static<typeof RegisteredTableSchema>;

/** `updated` names the fields the request set. */
export const RegistryUpdatedSchema = Type.Object({ id: Type.String(), updated: Type.Array(Type.String()) });
export type RegistryUpdated = Static<typeof RegistryUpdatedSchema>;

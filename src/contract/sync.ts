import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp, PageFields, Timestamp } from './common.js';

/** The sync manifest (02 §8) and the sync trigger's answer (03 §4). */

const ManifestFileSchema = Type.Object({
  name: Type.String(),
  size: Type.Integer(),
  hash: Type.String(),
});

/** What a policy-bound reader's entry says about their view (12 §3): policy names and masked columns. */
export const ManifestPolicySchema = Type.Object({
  names: Type.Array(Type.String()),
  masked_columns: Type.Array(
    Type.Object({ column: Type.String(), mask: Type.Union([Type.Literal('null'), Type.Literal('hash')]) }),
  ),
});
export type ManifestPolicy = Static<typeof ManifestPolicySchema>;

export const ManifestTableSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  source: Type.String(),
  dataset: Type.String(),
  query_mode: Type.Union([Type.Literal('local'), Type.Literal('remote')]),
  layout: Type.Union([Type.Literal('single'), Type.Literal('multi'), Type.Literal('remote')]),
  rows: Type.Union([Type.Integer(), Type.Null()]),
  size_bytes: Type.Integer(),
  hash: NullableString,
  updated: NullableTimestamp,
  files: Type.Array(ManifestFileSchema),
  /** Present when the reader is policy-bound: the entry describes their slice, not the table. */
  policy: Type.Optional(ManifestPolicySchema),
});
export type ManifestTable = Static<typeof ManifestTableSchema>;

/** What one user may sync, keyed by table id. */
export const ManifestSchema = Type.Object({
  server_time: Timestamp,
  generation: Type.Integer(),
  user_id: Type.String(),
  tables: Type.Record(Type.String(), ManifestTableSchema),
});
export type Manifest = Static<typeof ManifestSchema>;

/** `merged` when the source already had a queued job, which now covers these tables too. */
export const TriggeredJobSchema = Type.Object({
  id: Type.String(),
  source: Type.String(),
  status: Type.Union([Type.Literal('queued'), Type.Literal('merged')]),
  tables: Type.Array(Type.String()),
});
export type TriggeredJob = Static<typeof TriggeredJobSchema>;

export const SkippedSyncSchema = Type.Object({
  table: Type.String(),
  reason: Type.Union([Type.Literal('push_source'), Type.Literal('source_not_configured')]),
});
export type SkippedSync = Static<typeof SkippedSyncSchema>;

export const SyncTriggerResponseSchema = Type.Object({
  status: Type.Literal('triggered'),
  jobs: Type.Array(TriggeredJobSchema),
  skipped: Type.Array(SkippedSyncSchema),
});
export type SyncTriggerResponse = Static<typeof SyncTriggerResponseSchema>;

/** A trigger names table ids (the original form), or a source and tables, or nothing: every pull source. */
const TableIdText = Type.String({ minLength: 1, maxLength: 300 });
export const SyncTriggerRequestSchema = Type.Union([
  Type.Array(TableIdText, { maxItems: 1000, description: 'table ids (the original form)' }),
  Type.Object(
    {
      tables: Type.Optional(Type.Array(TableIdText, { maxItems: 1000 })),
      source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      full_refresh: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
]);
export type SyncTriggerRequest = Static<typeof SyncTriggerRequestSchema>;

/** One row of sync history: a table's sync, or (`table_id` null) a whole source's. */
export const SyncHistoryEntrySchema = Type.Object({
  id: Type.String(),
  table_id: NullableString,
  source: Type.String(),
  synced_at: Timestamp,
  rows: Type.Union([Type.Integer(), Type.Null()]),
  duration_ms: Type.Union([Type.Integer(), Type.Null()]),
  status: Type.String(),
  error: NullableString,
});
export type SyncHistoryEntry = Static<typeof SyncHistoryEntrySchema>;

export const SyncHistorySchema = Type.Object({ entries: Type.Array(SyncHistoryEntrySchema), ...PageFields });
export type SyncHistory = Static<typeof SyncHistorySchema>;

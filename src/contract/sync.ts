import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp, Timestamp } from './common.js';

/** The sync manifest (02 §8) and the sync trigger's answer (03 §4). */

const ManifestFileSchema = Type.Object({
  name: Type.String(),
  size: Type.Integer(),
  hash: Type.String(),
});

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
export const SyncTriggerResponseSchema = Type.Object({
  status: Type.Literal('triggered'),
  jobs: Type.Array(
    Type.Object({
      id: Type.String(),
      source: Type.String(),
      status: Type.Union([Type.Literal('queued'), Type.Literal('merged')]),
      tables: Type.Array(Type.String()),
    }),
  ),
  skipped: Type.Array(
    Type.Object({
      table: Type.String(),
      reason: Type.Union([Type.Literal('push_source'), Type.Literal('source_not_configured')]),
    }),
  ),
});
export type SyncTriggerResponse = Static<typeof SyncTriggerResponseSchema>;

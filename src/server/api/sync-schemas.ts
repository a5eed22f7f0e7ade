import { Type } from '@sinclair/typebox';
import type { Job } from '../../core/state/repositories/index.js';
import { NullableTimestamp, Timestamp } from '../schemas.js';

/** Shapes the sync and registry routers share: `Job` (03 §0.6) and `RebuildReport` (02 §2.7). */

const Nullable = Type.Union([Type.String(), Type.Null()]);

export const JobSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  source: Nullable,
  tables: Type.Array(Type.String()),
  status: Type.String(),
  requested_by: Nullable,
  created_at: Timestamp,
  started_at: NullableTimestamp,
  finished_at: NullableTimestamp,
  report: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  error: Nullable,
});

export function jobView(job: Job) {
  return {
    id: job.id,
    kind: job.kind,
    source: job.source,
    tables: job.tables,
    status: job.status,
    requested_by: job.requested_by,
    created_at: job.created_at,
    started_at: job.started_at,
    finished_at: job.finished_at,
    report: job.report,
    error: job.error,
  };
}

export const SkippedTableSchema = Type.Object({
  table: Type.String(),
  reason: Type.String(),
  detail: Type.String(),
});

export const SourceReportSchema = Type.Object({
  status: Type.String({ description: 'ok | partial | failed | removed' }),
  reason: Nullable,
  tables: Type.Array(Type.String()),
  remote_tables: Type.Array(Type.String()),
  skipped_tables: Type.Array(SkippedTableSchema),
  remote_attach: Type.Array(
    Type.Object({ alias: Type.String(), extension: Type.String(), status: Type.String() }),
  ),
});

export const RebuildReportSchema = Type.Object({
  generation: Type.Integer(),
  mode: Type.Union([Type.Literal('full'), Type.Literal('source')]),
  source: Nullable,
  escalated_from: Nullable,
  started_at: Timestamp,
  finished_at: Timestamp,
  duration_ms: Type.Number(),
  views: Type.Integer(),
  sources: Type.Record(Type.String(), SourceReportSchema),
  collisions: Type.Array(Type.Object({ table: Type.String(), kept: Type.String(), dropped: Type.String() })),
  skipped_entries: Type.Array(Type.Object({ entry: Type.String(), reason: Type.String() })),
});

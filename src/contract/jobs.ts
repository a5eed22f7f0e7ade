import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp, PageFields, Timestamp } from './common.js';

/** Background jobs (03 §0.6) and the rebuild report (02 §2.7), which a finished job carries. */

export const JobSchema = Type.Object({
  id: Type.String(),
  kind: Type.String(),
  source: NullableString,
  tables: Type.Array(Type.String()),
  status: Type.String(),
  requested_by: NullableString,
  created_at: Timestamp,
  started_at: NullableTimestamp,
  finished_at: NullableTimestamp,
  report: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  error: NullableString,
  /** The `instance_id` of the replica that ran or runs the job (13 §3). */
  claimed_by: NullableString,
  /** When that replica last renewed its claim. */
  heartbeat_at: NullableTimestamp,
});
export type Job = Static<typeof JobSchema>;

export const JobListSchema = Type.Object({ jobs: Type.Array(JobSchema), ...PageFields });
export type JobList = Static<typeof JobListSchema>;

const SkippedTableSchema = Type.Object({
  table: Type.String(),
  reason: Type.String(),
  detail: Type.String(),
});

export const SourceReportSchema = Type.Object({
  status: Type.String({ description: 'ok | partial | failed | removed' }),
  reason: NullableString,
  tables: Type.Array(Type.String()),
  remote_tables: Type.Array(Type.String()),
  skipped_tables: Type.Array(SkippedTableSchema),
  remote_attach: Type.Array(
    Type.Object({ alias: Type.String(), extension: Type.String(), status: Type.String() }),
  ),
});
export type SourceReport = Static<typeof SourceReportSchema>;

export const RebuildReportSchema = Type.Object({
  generation: Type.Integer(),
  mode: Type.Union([Type.Literal('full'), Type.Literal('source')]),
  source: NullableString,
  escalated_from: NullableString,
  started_at: Timestamp,
  finished_at: Timestamp,
  duration_ms: Type.Number(),
  views: Type.Integer(),
  sources: Type.Record(Type.String(), SourceReportSchema),
  collisions: Type.Array(Type.Object({ table: Type.String(), kept: Type.String(), dropped: Type.String() })),
  skipped_entries: Type.Array(Type.Object({ entry: Type.String(), reason: Type.String() })),
});
export type RebuildReport = Static<typeof RebuildReportSchema>;

import { type Static, Type } from '@sinclair/typebox';
import { NullableString, Timestamp } from './common.js';

/** The scheduler's job list (03 §21, 08 §1.3): what is scheduled, when it last started, how to start it. */

export const SchedulerJobKindSchema = Type.Union([
  Type.Literal('table_sync'),
  Type.Literal('alert'),
  Type.Literal('script'),
  Type.Literal('jira_sla'),
  Type.Literal('jira_consistency'),
  Type.Literal('maintenance'),
]);
export type SchedulerJobKind = Static<typeof SchedulerJobKindSchema>;

/** The request that starts a job, relative to the app's base URL. */
export const SchedulerTriggerSchema = Type.Object({
  method: Type.Literal('POST'),
  path: Type.String(),
  body: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});
export type SchedulerTrigger = Static<typeof SchedulerTriggerSchema>;

export const SchedulerJobSchema = Type.Object({
  id: Type.String(),
  kind: SchedulerJobKindSchema,
  target_id: NullableString,
  source: NullableString,
  schedule: Type.String({ description: 'The effective schedule (08 §1.1), never `manual`' }),
  enabled: Type.Boolean({
    description: 'False when triggering would do nothing (a push or unconfigured source)',
  }),
  last_run_at: Type.Union([Timestamp, Type.Null()], {
    description: 'The last attempt: when the job last started, whatever its outcome',
  }),
  trigger: SchedulerTriggerSchema,
});
export type SchedulerJob = Static<typeof SchedulerJobSchema>;

export const SchedulerJobListSchema = Type.Object({
  server_time: Timestamp,
  timezone: Type.String(),
  in_process: Type.Boolean({
    description:
      'True when the app schedules these jobs itself (scheduler.in_process); a separate agnes scheduler then stands by',
  }),
  jobs: Type.Array(SchedulerJobSchema),
});
export type SchedulerJobList = Static<typeof SchedulerJobListSchema>;

import { type Static, Type } from '@sinclair/typebox';
import { NullableTimestamp, Timestamp } from './common.js';

/** The Jira routes (03 §20): webhook answers, health, status and the jobs' reports (07 §5.5). */

export const WebhookAnswerSchema = Type.Union([
  Type.Object({
    status: Type.Literal('accepted'),
    event: Type.String(),
    issue: Type.Union([Type.String(), Type.Null()]),
    event_id: Type.String(),
  }),
  Type.Object({ status: Type.Literal('ignored'), event: Type.String() }),
]);
export type WebhookAnswer = Static<typeof WebhookAnswerSchema>;

export const JiraWebhookHealthSchema = Type.Object({
  status: Type.Literal('ok'),
  configured: Type.Boolean(),
  webhook_secret_set: Type.Boolean(),
});
export type JiraWebhookHealth = Static<typeof JiraWebhookHealthSchema>;

const KeyList = Type.Array(Type.String());

export const ConsistencyReportSchema = Type.Object({
  timestamp: Timestamp,
  window: Type.Object({ from: Timestamp, to: Timestamp }),
  counts: Type.Object({ jira: Type.Integer(), raw: Type.Integer(), parquet: Type.Integer() }),
  discrepancies: Type.Object({
    missing_in_raw: KeyList,
    missing_in_parquet: KeyList,
    deleted_in_jira: KeyList,
    outdated: KeyList,
  }),
  actions: Type.Object({ enqueued: Type.Integer(), capped: Type.Integer() }),
  alert_level: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('error')]),
  duration_ms: Type.Integer(),
});
export type ConsistencyReport = Static<typeof ConsistencyReportSchema>;

export const SlaReportSchema = Type.Object({
  candidates: Type.Integer(),
  updated: Type.Integer(),
  healed: Type.Integer(),
  skipped: Type.Integer(),
  failed: Type.Integer(),
});
export type SlaReport = Static<typeof SlaReportSchema>;

export const JiraStatusSchema = Type.Object({
  configured: Type.Boolean(),
  queue_depth: Type.Integer(),
  failed_events: Type.Integer(),
  last_event_at: NullableTimestamp,
  last_processed_at: NullableTimestamp,
  last_consistency_report: Type.Union([ConsistencyReportSchema, Type.Null()]),
});
export type JiraStatus = Static<typeof JiraStatusSchema>;

export const ConsistencyCheckRequestSchema = Type.Object(
  { max_age_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365 })) },
  { additionalProperties: false },
);
export type ConsistencyCheckRequest = Static<typeof ConsistencyCheckRequestSchema>;

export const JobAcceptedSchema = Type.Object({ job_id: Type.String() });

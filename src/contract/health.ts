import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp, Timestamp } from './common.js';

/** Instance health (03 §3). */

const Status = Type.Union([Type.Literal('healthy'), Type.Literal('degraded'), Type.Literal('unhealthy')]);

/** Anonymous, so no counts or names. */
export const HealthSchema = Type.Object({
  status: Status,
  version: Type.String(),
  timestamp: Timestamp,
});
export type Health = Static<typeof HealthSchema>;

/** `stale_tables` holds only tables the caller can read; `users` is there for admins only. */
export const HealthDetailedSchema = Type.Object({
  status: Status,
  version: Type.String(),
  timestamp: Timestamp,
  services: Type.Object({
    state_db: Type.Object({ status: Status, detail: Type.Optional(Type.String()) }),
    analytics: Type.Object({
      status: Status,
      generation: Type.Union([Type.Integer(), Type.Null()]),
      built_at: NullableTimestamp,
      views: Type.Integer(),
      failed_sources: Type.Array(Type.String()),
    }),
    data: Type.Object({
      status: Status,
      tables: Type.Integer(),
      total_rows: Type.Integer(),
      stale_tables: Type.Array(Type.String()),
    }),
    sync: Type.Object({
      running_jobs: Type.Integer(),
      last_job: Type.Union([
        Type.Object({
          id: Type.String(),
          kind: Type.String(),
          source: NullableString,
          status: Type.String(),
          created_at: Timestamp,
          finished_at: NullableTimestamp,
        }),
        Type.Null(),
      ]),
    }),
    disk: Type.Object({ status: Status, free_bytes: Type.Integer() }),
    /** Admins only, when Jira is configured: `degraded` while events sit in `jira/failed/` (07 §5.7). */
    jira: Type.Optional(
      Type.Object({ status: Status, queue_depth: Type.Integer(), last_event_at: NullableTimestamp }),
    ),
    users: Type.Optional(Type.Object({ count: Type.Integer() })),
    /** Admins only: which database holds the state (13 §3). */
    state_store: Type.Optional(
      Type.Object({ dialect: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]) }),
    ),
    /** Admins only: the replica that answered, among those sharing the state store (13 §3). */
    replica: Type.Optional(
      Type.Object({ instance_id: Type.String(), host: Type.String(), started_at: Timestamp }),
    ),
    /** Admins only: every replica with a recent heartbeat, oldest first (13 §3). */
    replicas: Type.Optional(
      Type.Array(
        Type.Object({
          instance_id: Type.String(),
          host: Type.String(),
          started_at: Timestamp,
          heartbeat_at: Timestamp,
        }),
      ),
    ),
  }),
});
export type HealthDetailed = Static<typeof HealthDetailedSchema>;

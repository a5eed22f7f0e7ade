import { type Static, Type } from '@sinclair/typebox';

/** What one maintenance run removed (03 §12 `POST /api/admin/maintenance`). */
export const MaintenanceReportSchema = Type.Object({
  pruned: Type.Object({
    audit_log: Type.Integer(),
    sync_history: Type.Integer(),
    notifications: Type.Integer(),
    revoked_tokens: Type.Integer(),
    magic_link_tokens: Type.Integer(),
    pending_codes: Type.Integer(),
    jira_events: Type.Integer(),
    jira_deleted_issues: Type.Integer(),
    policy_slices: Type.Integer({
      description: 'Policy slices deleted: unused, or of a changed or unpublished table',
    }),
    rate_limit_counters: Type.Integer({ description: 'Rate-limit windows that had ended' }),
    temp_dirs: Type.Integer({
      description:
        'Temp directories of replicas no longer running, and older loose temp entries, unchanged for 24 h',
    }),
    replicas: Type.Integer({ description: 'Rows of replicas without a heartbeat for 24 h' }),
  }),
  memory_expired: Type.Integer({
    description: 'Approved or mandatory items past their review date, now expired',
  }),
});
export type MaintenanceReport = Static<typeof MaintenanceReportSchema>;

import type { ColumnType } from 'kysely';

/**
 * Kysely types of the state store (02-data-contracts.md §5). Portable conventions: ids and
 * timestamps are text (ISO 8601 UTC); booleans and JSON columns are converted by the dialect's
 * plugin, so repositories see `boolean` and parsed values on every backend. Repositories pass
 * JSON columns as serialised text (`toJson()`).
 */

/** A JSON column: parsed when selected, written as serialised text. */
export type Json<T> = ColumnType<T, string, string>;

/** A nullable JSON column: SQL NULL stays NULL (not the JSON text `null`). */
export type NullableJson<T> = ColumnType<T | null, string | null, string | null>;

export type Role = 'viewer' | 'analyst' | 'km_admin' | 'admin';

export interface SchemaVersionTable {
  version: number;
  applied_at: string;
}

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  role: Role;
  password_hash: string | null;
  setup_token: string | null;
  setup_token_created: string | null;
  reset_token: string | null;
  reset_token_created: string | null;
  created_at: string;
  updated_at: string;
  active: boolean;
  is_service: boolean;
  sessions_valid_after: string | null;
  last_login_at: string | null;
}

export interface FileRecord {
  name: string;
  /** Relative to DATA_DIR. */
  path: string;
  size: number;
  hash: string;
  mtime_ns: string;
}

export type QueryMode = 'local' | 'remote';
export type Layout = 'single' | 'multi' | 'remote';

export interface SyncStateTable {
  table_id: string;
  source: string;
  query_mode: QueryMode;
  layout: Layout;
  last_sync: string | null;
  extracted_at: string | null;
  rows: number | null;
  file_size_bytes: number | null;
  uncompressed_size_bytes: number | null;
  columns: number | null;
  hash: string | null;
  files: Json<FileRecord[]>;
  status: string;
  error: string | null;
  watermark: string | null;
  description: string | null;
  updated_generation: number | null;
}

export type SyncHistoryStatus = 'ok' | 'partial' | 'failed' | 'changed' | 'removed';

export interface SyncHistoryTable {
  id: string;
  table_id: string | null;
  source: string;
  job_id: string | null;
  synced_at: string;
  rows: number | null;
  duration_ms: number | null;
  status: SyncHistoryStatus;
  error: string | null;
  generation: number | null;
}

export interface UserSyncSettingsTable {
  user_id: string;
  dataset: string;
  enabled: boolean;
  table_mode: 'all' | 'selected';
  tables: Json<string[]>;
  updated_at: string;
}

export type SyncStrategy = 'full_refresh' | 'incremental' | 'partitioned';

export interface TableRegistryTable {
  id: string;
  name: string;
  source: string;
  source_type: string;
  bucket: string;
  source_table: string | null;
  sync_strategy: SyncStrategy;
  query_mode: QueryMode;
  sync_schedule: string | null;
  profile_after_sync: boolean;
  primary_key: string | null;
  partition_by: string | null;
  partition_granularity: 'day' | 'month' | 'year' | null;
  folder: string | null;
  description: string | null;
  registered_by: string | null;
  is_public: boolean;
  is_discoverable: boolean;
  catalog_fqn: string | null;
  registered_at: string;
  updated_at: string;
}

export interface TableProfilesTable {
  table_id: string;
  profile: Json<Record<string, unknown>>;
  profiled_at: string;
  source_hash: string | null;
  duration_ms: number | null;
}

export type Access = 'read' | 'none';

export interface DatasetPermissionsTable {
  user_id: string;
  dataset: string;
  access: Access;
  granted_by: string | null;
  granted_at: string | null;
}

export type AccessRequestStatus = 'pending' | 'approved' | 'denied' | 'cancelled';

export interface AccessRequestsTable {
  id: string;
  user_id: string;
  user_email: string;
  table_id: string;
  reason: string | null;
  status: AccessRequestStatus;
  reviewed_by: string | null;
  reviewed_at: string | null;
  review_note: string | null;
  created_at: string;
}

export type KnowledgeStatus = 'pending' | 'approved' | 'mandatory' | 'rejected' | 'revoked' | 'expired';

export interface KnowledgeItemsTable {
  id: string;
  title: string;
  content: string | null;
  category: string | null;
  tags: Json<string[]>;
  status: KnowledgeStatus;
  contributors: Json<string[]>;
  source_user: string | null;
  audience: string;
  created_at: string;
  updated_at: string;
  content_hash: string | null;
  origin: 'manual' | 'collector';
  approved_by: string | null;
  approved_at: string | null;
  status_reason: string | null;
  review_by: string | null;
  edited_by: string | null;
  edited_at: string | null;
}

/** The fields an edit replaced (08 §4.3); `revision` counts from 1 per item. */
export interface MemoryItemRevisionsTable {
  item_id: string;
  revision: number;
  title: string;
  content: string | null;
  category: string | null;
  tags: Json<string[]>;
  edited_by: string | null;
  edited_at: string;
}

/** 12 §1 user attributes: stored keys only; `email`, `user_id` and `groups` are derived. */
export interface UserAttributesTable {
  user_id: string;
  key: string;
  values: Json<string[]>;
}

export interface RowPoliciesTable {
  id: string;
  table_id: string;
  name: string;
  /** `name` lower-cased: names are unique per table case-insensitively. */
  name_key: string;
  description: string;
  applies_to: Json<{ everyone: boolean; users: string[]; groups: string[] }>;
  row_filter: string | null;
  masked_columns: Json<{ column: string; mask: 'null' | 'hash' }[]>;
  enabled: boolean;
  /** Why the policy no longer binds (12 §2), or null. */
  error: string | null;
  created_by: string | null;
  created_at: string;
  updated_by: string | null;
  updated_at: string;
}

export interface PolicySlicesTable {
  slice_key: string;
  table_id: string;
  table_hash: string;
  binding_hash: string;
  rows: number;
  size_bytes: number;
  sha256: string;
  built_at: string;
  last_used_at: string;
}

export interface KnowledgeVotesTable {
  item_id: string;
  user_id: string;
  vote: -1 | 1;
  voted_at: string;
}

export interface AuditLogTable {
  id: string;
  timestamp: string;
  user_id: string | null;
  action: string;
  resource: string | null;
  params: NullableJson<Record<string, unknown>>;
  result: 'ok' | 'denied' | 'error';
  duration_ms: number | null;
  status_code: number | null;
  request_id: string | null;
  ip: string | null;
  client: 'web' | 'cli' | 'service' | 'api' | 'mcp' | null;
}

export interface TelegramLinksTable {
  user_id: string;
  chat_id: number;
  linked_at: string;
  telegram_username: string | null;
}

export interface PendingCodesTable {
  code: string;
  chat_id: number;
  created_at: string;
  expires_at: string;
  telegram_username: string | null;
}

export interface ScriptRegistryTable {
  id: string;
  name: string;
  owner: string | null;
  schedule: string | null;
  source: string;
  deployed_at: string;
  last_run: string | null;
  last_status: 'ok' | 'error' | 'timeout' | 'refused' | null;
  runtime: 'node' | 'python';
  recipients: Json<string[]>;
  timeout_seconds: number;
  enabled: boolean;
  last_output: NullableJson<{ stdout: string; stderr: string }>;
  last_duration_ms: number | null;
  updated_at: string;
}

export interface PersonalAccessTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  last_used_ip: string | null;
  revoked_at: string | null;
}

export interface RevokedTokensTable {
  jti: string;
  user_id: string;
  revoked_at: string;
  expires_at: string;
}

export interface MagicLinkTokensTable {
  token_hash: string;
  user_id: string;
  created_at: string;
  expires_at: string;
  consumed_at: string | null;
  next_path: string | null;
}

export interface GroupsTable {
  id: string;
  name: string;
  /** Lower-cased name; enforces case-insensitive uniqueness portably. */
  name_key: string;
  description: string | null;
  created_by: string | null;
  created_at: string;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
  added_by: string | null;
  added_at: string;
}

export interface GroupPermissionsTable {
  group_id: string;
  dataset: string;
  access: Access;
  granted_by: string | null;
  granted_at: string;
}

export type JobKind = 'sync' | 'profile' | 'rebuild' | 'jira_sla' | 'jira_consistency';
export type JobStatus = 'queued' | 'running' | 'succeeded' | 'partial' | 'failed' | 'interrupted';

export interface SyncJobsTable {
  id: string;
  kind: JobKind;
  requested_by: string | null;
  source: string | null;
  tables: Json<string[]>;
  status: JobStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  report: NullableJson<Record<string, unknown>>;
  error: string | null;
  /** The `instance_id` of the replica that claimed the job (13 §3). */
  claimed_by: string | null;
  /** When that replica last renewed its claim; a running job silent for 3 heartbeats is dead. */
  heartbeat_at: string | null;
}

/** A fixed rate-limit window of one limit and key (04 §4.1), counted here with PostgreSQL. */
export interface RateLimitCountersTable {
  key: string;
  count: number;
  window_ends_at: string;
}

/** One rebuild request (02 §2.5 across replicas); `outcome` is set with `finished_at` by the run that covered it. */
export interface RebuildRequestsTable {
  id: string;
  kind: 'full' | 'source';
  source: string | null;
  requested_by: string;
  requested_at: string;
  run_id: string | null;
  finished_at: string | null;
  outcome: NullableJson<RebuildOutcome>;
}

/** What a caller of a rebuild gets: the covering run's report, or its error. */
export type RebuildOutcome =
  | { report: Record<string, unknown> }
  | { error: { code: string; message: string } };

/** A running replica (13 §3): registered at start, its heartbeat kept while it runs. */
export interface ReplicasTable {
  instance_id: string;
  host: string;
  started_at: string;
  heartbeat_at: string;
}

export interface AlertsTable {
  id: string;
  owner_id: string;
  name: string;
  sql: string;
  condition: Json<Record<string, unknown>>;
  message_template: string;
  schedule: string;
  channels: Json<string[]>;
  cooldown_minutes: number;
  enabled: boolean;
  /** Consecutive runs that failed on access; the alert is disabled after 3 (08 §7 declarative SQL alerts). */
  consecutive_errors: number;
  last_run_at: string | null;
  last_status: string | null;
  last_error: string | null;
  last_fired_at: string | null;
  created_at: string;
  updated_at: string;
}

export type DeliveryStatus = 'pending' | 'sent' | 'failed' | 'skipped';

export interface NotificationsTable {
  id: string;
  user_id: string;
  title: string;
  message: string;
  source_kind: 'alert' | 'script' | 'system' | 'access_request';
  source_id: string | null;
  created_at: string;
  read_at: string | null;
  telegram_status: DeliveryStatus;
  ws_status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
}

/** Counters bumped by triggers (migration 0002): `catalog` moves with every write to sync_state or table_registry. */
export interface StateRevisionsTable {
  name: string;
  n: number;
}

/** A Jira webhook event that failed at least once, until it succeeds or moves to `jira/failed/`. */
export interface JiraEventAttemptsTable {
  event_id: string;
  attempts: number;
  next_attempt_at: string;
  last_error_code: string;
  last_attempt_at: string;
}

export interface Database {
  schema_version: SchemaVersionTable;
  state_revisions: StateRevisionsTable;
  users: UsersTable;
  sync_state: SyncStateTable;
  sync_history: SyncHistoryTable;
  user_sync_settings: UserSyncSettingsTable;
  table_registry: TableRegistryTable;
  table_profiles: TableProfilesTable;
  dataset_permissions: DatasetPermissionsTable;
  access_requests: AccessRequestsTable;
  knowledge_items: KnowledgeItemsTable;
  knowledge_votes: KnowledgeVotesTable;
  memory_item_revisions: MemoryItemRevisionsTable;
  audit_log: AuditLogTable;
  telegram_links: TelegramLinksTable;
  pending_codes: PendingCodesTable;
  script_registry: ScriptRegistryTable;
  personal_access_tokens: PersonalAccessTokensTable;
  revoked_tokens: RevokedTokensTable;
  magic_link_tokens: MagicLinkTokensTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  group_permissions: GroupPermissionsTable;
  sync_jobs: SyncJobsTable;
  alerts: AlertsTable;
  notifications: NotificationsTable;
  jira_event_attempts: JiraEventAttemptsTable;
  user_attributes: UserAttributesTable;
  row_policies: RowPoliciesTable;
  policy_slices: PolicySlicesTable;
  rate_limit_counters: RateLimitCountersTable;
  rebuild_requests: RebuildRequestsTable;
  replicas: ReplicasTable;
}

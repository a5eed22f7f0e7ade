import type { Database } from './schema.js';

/**
 * Every state table, parents before children (foreign keys), so a loader inserting in this order
 * and deleting in the reverse never breaks a constraint, on a dialect whose foreign keys cannot be
 * deferred too. Kysely's own `kysely_migration*` tables are the migration ledger, not state.
 * `test/core/state/tables.test.ts` fails when a migration adds a table that is not listed here or
 * in `EPHEMERAL_TABLES`.
 */
export const STATE_TABLES: readonly (keyof Database)[] = [
  'schema_version',
  'state_revisions',
  'users',
  'groups',
  'table_registry',
  'knowledge_items',
  'sync_state',
  'sync_history',
  'user_sync_settings',
  'table_profiles',
  'dataset_permissions',
  'access_requests',
  'knowledge_votes',
  'memory_item_revisions',
  'audit_log',
  'telegram_links',
  'pending_codes',
  'script_registry',
  'personal_access_tokens',
  'revoked_tokens',
  'magic_link_tokens',
  'group_members',
  'group_permissions',
  'sync_jobs',
  'alerts',
  'notifications',
  'jira_event_attempts',
  'user_attributes',
  'row_policies',
  'policy_slices',
  'rate_limit_counters',
];

/**
 * Tables of the running processes, not of the instance: which replicas are alive now, and the
 * rebuilds they have asked for. A backup leaves them out, and a restore leaves the target's
 * (emptied) rows to the replicas that run there.
 */
export const EPHEMERAL_TABLES: readonly (keyof Database)[] = ['replicas', 'rebuild_requests'];

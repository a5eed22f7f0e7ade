import { type Kysely, sql } from 'kysely';
import { portableTypes } from './column-types.js';

const DELIVERY = ['pending', 'sent', 'failed', 'skipped'] as const;

const inList = (column: string, values: readonly (string | number)[]) =>
  sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  const t = portableTypes(db);

  await db.schema
    .createTable('schema_version')
    .addColumn('version', t.int, (c) => c.notNull())
    .addColumn('applied_at', t.ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('email', t.text, (c) => c.notNull().unique())
    .addColumn('name', t.text, (c) => c.notNull().defaultTo(''))
    .addColumn('role', t.text, (c) =>
      c
        .notNull()
        .defaultTo('analyst')
        .check(inList('role', ['viewer', 'analyst', 'km_admin', 'admin'])),
    )
    .addColumn('password_hash', t.text)
    .addColumn('setup_token', t.text, (c) => c.unique())
    .addColumn('setup_token_created', t.ts)
    .addColumn('reset_token', t.text, (c) => c.unique())
    .addColumn('reset_token_created', t.ts)
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('updated_at', t.ts, (c) => c.notNull())
    .addColumn('active', t.bool, (c) => c.notNull().defaultTo(true))
    .addColumn('is_service', t.bool, (c) => c.notNull().defaultTo(false))
    .addColumn('sessions_valid_after', t.ts)
    .addColumn('last_login_at', t.ts)
    .execute();

  await db.schema
    .createTable('sync_state')
    .addColumn('table_id', t.text, (c) => c.primaryKey())
    .addColumn('source', t.text, (c) => c.notNull())
    .addColumn('query_mode', t.text, (c) => c.notNull().check(inList('query_mode', ['local', 'remote'])))
    .addColumn('layout', t.text, (c) => c.notNull().check(inList('layout', ['single', 'multi', 'remote'])))
    .addColumn('last_sync', t.ts)
    .addColumn('extracted_at', t.ts)
    .addColumn('rows', t.int)
    .addColumn('file_size_bytes', t.int)
    .addColumn('uncompressed_size_bytes', t.int)
    .addColumn('columns', t.int)
    .addColumn('hash', t.text)
    .addColumn('files', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('status', t.text, (c) => c.notNull().defaultTo('ok'))
    .addColumn('error', t.text)
    .addColumn('watermark', t.ts)
    .addColumn('description', t.text)
    .addColumn('updated_generation', t.int)
    .execute();
  await db.schema.createIndex('sync_state_source').on('sync_state').column('source').execute();

  await db.schema
    .createTable('sync_history')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('table_id', t.text)
    .addColumn('source', t.text, (c) => c.notNull())
    .addColumn('job_id', t.id)
    .addColumn('synced_at', t.ts, (c) => c.notNull())
    .addColumn('rows', t.int)
    .addColumn('duration_ms', t.int)
    .addColumn('status', t.text, (c) =>
      c.notNull().check(inList('status', ['ok', 'partial', 'failed', 'changed', 'removed'])),
    )
    .addColumn('error', t.text)
    .addColumn('generation', t.int)
    .execute();
  await db.schema
    .createIndex('sync_history_table')
    .on('sync_history')
    .columns(['table_id', 'synced_at'])
    .execute();
  await db.schema
    .createIndex('sync_history_source')
    .on('sync_history')
    .columns(['source', 'synced_at'])
    .execute();

  await db.schema
    .createTable('user_sync_settings')
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('dataset', t.text, (c) => c.notNull())
    .addColumn('enabled', t.bool, (c) => c.notNull().defaultTo(true))
    .addColumn('table_mode', t.text, (c) =>
      c
        .notNull()
        .defaultTo('all')
        .check(inList('table_mode', ['all', 'selected'])),
    )
    .addColumn('tables', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('updated_at', t.ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('user_sync_settings_pk', ['user_id', 'dataset'])
    .execute();

  await db.schema
    .createTable('table_registry')
    .addColumn('id', t.text, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('source', t.text, (c) => c.notNull())
    .addColumn('source_type', t.text, (c) => c.notNull())
    .addColumn('bucket', t.text, (c) => c.notNull().defaultTo(''))
    .addColumn('source_table', t.text)
    .addColumn('sync_strategy', t.text, (c) =>
      c
        .notNull()
        .defaultTo('full_refresh')
        .check(inList('sync_strategy', ['full_refresh', 'incremental', 'partitioned'])),
    )
    .addColumn('query_mode', t.text, (c) =>
      c
        .notNull()
        .defaultTo('local')
        .check(inList('query_mode', ['local', 'remote'])),
    )
    .addColumn('sync_schedule', t.text)
    .addColumn('profile_after_sync', t.bool, (c) => c.notNull().defaultTo(true))
    .addColumn('primary_key', t.text)
    .addColumn('partition_by', t.text)
    .addColumn('partition_granularity', t.text, (c) =>
      c.check(
        sql`partition_granularity is null or ${inList('partition_granularity', ['day', 'month', 'year'])}`,
      ),
    )
    .addColumn('folder', t.text)
    .addColumn('description', t.text)
    .addColumn('registered_by', t.id)
    .addColumn('is_public', t.bool, (c) => c.notNull().defaultTo(false))
    .addColumn('is_discoverable', t.bool, (c) => c.notNull().defaultTo(true))
    .addColumn('catalog_fqn', t.text)
    .addColumn('registered_at', t.ts, (c) => c.notNull())
    .addColumn('updated_at', t.ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('table_registry_source').on('table_registry').column('source').execute();
  await db.schema.createIndex('table_registry_bucket').on('table_registry').column('bucket').execute();

  await db.schema
    .createTable('table_profiles')
    .addColumn('table_id', t.text, (c) => c.primaryKey())
    .addColumn('profile', t.json, (c) => c.notNull())
    .addColumn('profiled_at', t.ts, (c) => c.notNull())
    .addColumn('source_hash', t.text)
    .addColumn('duration_ms', t.int)
    .execute();

  await db.schema
    .createTable('dataset_permissions')
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('dataset', t.text, (c) => c.notNull())
    .addColumn('access', t.text, (c) =>
      c
        .notNull()
        .defaultTo('read')
        .check(inList('access', ['read', 'none'])),
    )
    .addColumn('granted_by', t.id)
    .addColumn('granted_at', t.ts)
    .addPrimaryKeyConstraint('dataset_permissions_pk', ['user_id', 'dataset'])
    .execute();
  await db.schema
    .createIndex('dataset_permissions_dataset')
    .on('dataset_permissions')
    .column('dataset')
    .execute();

  await db.schema
    .createTable('access_requests')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('user_email', t.text, (c) => c.notNull())
    .addColumn('table_id', t.text, (c) => c.notNull())
    .addColumn('reason', t.text, (c) => c.check(sql`reason is null or length(reason) <= 1000`))
    .addColumn('status', t.text, (c) =>
      c.notNull().check(inList('status', ['pending', 'approved', 'denied', 'cancelled'])),
    )
    .addColumn('reviewed_by', t.id)
    .addColumn('reviewed_at', t.ts)
    .addColumn('review_note', t.text)
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('access_requests_one_pending')
    .on('access_requests')
    .columns(['user_id', 'table_id'])
    .unique()
    .where(sql.ref('status'), '=', 'pending')
    .execute();
  await db.schema
    .createIndex('access_requests_status')
    .on('access_requests')
    .columns(['status', 'created_at'])
    .execute();

  await db.schema
    .createTable('knowledge_items')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('title', t.text, (c) => c.notNull().check(sql`length(title) <= 200`))
    .addColumn('content', t.text, (c) => c.check(sql`content is null or length(content) <= 10000`))
    .addColumn('category', t.text)
    .addColumn('tags', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('status', t.text, (c) =>
      c
        .notNull()
        .check(inList('status', ['pending', 'approved', 'mandatory', 'rejected', 'revoked', 'expired'])),
    )
    .addColumn('contributors', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('source_user', t.id)
    .addColumn('audience', t.text, (c) => c.notNull().defaultTo('all'))
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('updated_at', t.ts, (c) => c.notNull())
    .addColumn('content_hash', t.text)
    .addColumn('origin', t.text, (c) =>
      c
        .notNull()
        .defaultTo('manual')
        .check(inList('origin', ['manual', 'collector'])),
    )
    .addColumn('approved_by', t.id)
    .addColumn('approved_at', t.ts)
    .addColumn('status_reason', t.text)
    .addColumn('review_by', t.ts)
    .addColumn('edited_by', t.id)
    .addColumn('edited_at', t.ts)
    .execute();
  await db.schema
    .createIndex('knowledge_items_status')
    .on('knowledge_items')
    .columns(['status', 'updated_at'])
    .execute();
  await db.schema.createIndex('knowledge_items_hash').on('knowledge_items').column('content_hash').execute();

  await db.schema
    .createTable('knowledge_votes')
    .addColumn('item_id', t.id, (c) => c.notNull().references('knowledge_items.id').onDelete('cascade'))
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('vote', t.int, (c) => c.notNull().check(inList('vote', [-1, 1])))
    .addColumn('voted_at', t.ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('knowledge_votes_pk', ['item_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('timestamp', t.ts, (c) => c.notNull())
    .addColumn('user_id', t.id)
    .addColumn('action', t.text, (c) => c.notNull())
    .addColumn('resource', t.text)
    .addColumn('params', t.json)
    .addColumn('result', t.text, (c) => c.notNull().check(inList('result', ['ok', 'denied', 'error'])))
    .addColumn('duration_ms', t.int)
    .addColumn('status_code', t.int)
    .addColumn('request_id', t.text)
    .addColumn('ip', t.text)
    .addColumn('client', t.text, (c) =>
      c.check(sql`client is null or ${inList('client', ['web', 'cli', 'service', 'api'])}`),
    )
    .execute();
  await db.schema.createIndex('audit_log_timestamp').on('audit_log').column('timestamp').execute();
  await db.schema.createIndex('audit_log_user').on('audit_log').columns(['user_id', 'timestamp']).execute();
  await db.schema.createIndex('audit_log_action').on('audit_log').columns(['action', 'timestamp']).execute();

  await db.schema
    .createTable('telegram_links')
    .addColumn('user_id', t.id, (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('chat_id', t.int, (c) => c.notNull().unique())
    .addColumn('linked_at', t.ts, (c) => c.notNull())
    .addColumn('telegram_username', t.text)
    .execute();

  await db.schema
    .createTable('pending_codes')
    .addColumn('code', t.text, (c) => c.primaryKey())
    .addColumn('chat_id', t.int, (c) => c.notNull())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('expires_at', t.ts, (c) => c.notNull())
    .addColumn('telegram_username', t.text)
    .execute();

  await db.schema
    .createTable('script_registry')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull().unique())
    .addColumn('owner', t.id)
    .addColumn('schedule', t.text)
    .addColumn('source', t.text, (c) => c.notNull())
    .addColumn('deployed_at', t.ts, (c) => c.notNull())
    .addColumn('last_run', t.ts)
    .addColumn('last_status', t.text, (c) =>
      c.check(sql`last_status is null or ${inList('last_status', ['ok', 'error', 'timeout', 'refused'])}`),
    )
    .addColumn('runtime', t.text, (c) =>
      c
        .notNull()
        .defaultTo('node')
        .check(inList('runtime', ['node', 'python'])),
    )
    .addColumn('recipients', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('timeout_seconds', t.int, (c) => c.notNull().defaultTo(60))
    .addColumn('enabled', t.bool, (c) => c.notNull().defaultTo(true))
    .addColumn('last_output', t.json)
    .addColumn('last_duration_ms', t.int)
    .addColumn('updated_at', t.ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('personal_access_tokens')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', t.text, (c) => c.notNull().check(sql`length(name) between 1 and 100`))
    .addColumn('token_hash', t.text, (c) => c.notNull().unique())
    .addColumn('prefix', t.text, (c) => c.notNull())
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('expires_at', t.ts)
    .addColumn('last_used_at', t.ts)
    .addColumn('last_used_ip', t.text)
    .addColumn('revoked_at', t.ts)
    .execute();
  await db.schema.createIndex('pat_user').on('personal_access_tokens').column('user_id').execute();

  await db.schema
    .createTable('revoked_tokens')
    .addColumn('jti', t.text, (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull())
    .addColumn('revoked_at', t.ts, (c) => c.notNull())
    .addColumn('expires_at', t.ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('magic_link_tokens')
    .addColumn('token_hash', t.text, (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('expires_at', t.ts, (c) => c.notNull())
    .addColumn('consumed_at', t.ts)
    .addColumn('next_path', t.text)
    .execute();

  await db.schema
    .createTable('groups')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('name', t.text, (c) => c.notNull().check(sql`length(name) between 1 and 100`))
    .addColumn('name_key', t.text, (c) => c.notNull().unique())
    .addColumn('description', t.text)
    .addColumn('created_by', t.id)
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('group_members')
    .addColumn('group_id', t.id, (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('added_by', t.id)
    .addColumn('added_at', t.ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['group_id', 'user_id'])
    .execute();
  await db.schema.createIndex('group_members_user').on('group_members').column('user_id').execute();

  await db.schema
    .createTable('group_permissions')
    .addColumn('group_id', t.id, (c) => c.notNull().references('groups.id').onDelete('cascade'))
    .addColumn('dataset', t.text, (c) => c.notNull())
    .addColumn('access', t.text, (c) =>
      c
        .notNull()
        .defaultTo('read')
        .check(inList('access', ['read', 'none'])),
    )
    .addColumn('granted_by', t.id)
    .addColumn('granted_at', t.ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('group_permissions_pk', ['group_id', 'dataset'])
    .execute();
  await db.schema
    .createIndex('group_permissions_dataset')
    .on('group_permissions')
    .column('dataset')
    .execute();

  await db.schema
    .createTable('sync_jobs')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('kind', t.text, (c) =>
      c.notNull().check(inList('kind', ['sync', 'profile', 'rebuild', 'jira_sla', 'jira_consistency'])),
    )
    .addColumn('requested_by', t.id)
    .addColumn('source', t.text)
    .addColumn('tables', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('status', t.text, (c) =>
      c
        .notNull()
        .check(inList('status', ['queued', 'running', 'succeeded', 'partial', 'failed', 'interrupted'])),
    )
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('started_at', t.ts)
    .addColumn('finished_at', t.ts)
    .addColumn('report', t.json)
    .addColumn('error', t.text)
    .execute();
  await db.schema.createIndex('sync_jobs_status').on('sync_jobs').columns(['status', 'created_at']).execute();

  await db.schema
    .createTable('alerts')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('owner_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('sql', t.text, (c) => c.notNull())
    .addColumn('condition', t.json, (c) => c.notNull())
    .addColumn('message_template', t.text, (c) => c.notNull())
    .addColumn('schedule', t.text, (c) => c.notNull())
    .addColumn('channels', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('cooldown_minutes', t.int, (c) => c.notNull().defaultTo(60))
    .addColumn('enabled', t.bool, (c) => c.notNull().defaultTo(true))
    .addColumn('consecutive_errors', t.int, (c) => c.notNull().defaultTo(0))
    .addColumn('last_run_at', t.ts)
    .addColumn('last_status', t.text)
    .addColumn('last_error', t.text)
    .addColumn('last_fired_at', t.ts)
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('updated_at', t.ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('alerts_owner').on('alerts').column('owner_id').execute();

  await db.schema
    .createTable('notifications')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('title', t.text, (c) => c.notNull())
    .addColumn('message', t.text, (c) => c.notNull())
    .addColumn('source_kind', t.text, (c) =>
      c.notNull().check(inList('source_kind', ['alert', 'script', 'system'])),
    )
    .addColumn('source_id', t.text)
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('read_at', t.ts)
    .addColumn('telegram_status', t.text, (c) =>
      c.notNull().defaultTo('skipped').check(inList('telegram_status', DELIVERY)),
    )
    .addColumn('ws_status', t.text, (c) =>
      c.notNull().defaultTo('skipped').check(inList('ws_status', DELIVERY)),
    )
    .addColumn('attempts', t.int, (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', t.ts)
    .addColumn('last_error', t.text)
    .execute();
  await db.schema
    .createIndex('notifications_user')
    .on('notifications')
    .columns(['user_id', 'created_at'])
    .execute();
}

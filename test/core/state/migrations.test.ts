import { type Kysely, Migrator, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDb, type StateDb } from '../../../src/core/state/db.js';
import {
  MIGRATIONS,
  MigrationError,
  migrateToLatest,
  migrateToVersion,
  schemaVersion,
} from '../../../src/core/state/migrate.js';
import { createRepositories } from '../../../src/core/state/repositories/index.js';
import type { Database } from '../../../src/core/state/schema.js';
import {
  openTestDatabase,
  skipWithoutPostgres,
  TEST_DIALECT,
  type TestDatabase,
} from './repositories/fresh-store.js';

// A record over `keyof Database` makes the compiler fail when a table is added to the type only.
const DATABASE_TABLES = {
  schema_version: true,
  state_revisions: true,
  users: true,
  sync_state: true,
  sync_history: true,
  user_sync_settings: true,
  table_registry: true,
  table_profiles: true,
  dataset_permissions: true,
  access_requests: true,
  knowledge_items: true,
  knowledge_votes: true,
  audit_log: true,
  telegram_links: true,
  pending_codes: true,
  script_registry: true,
  personal_access_tokens: true,
  revoked_tokens: true,
  magic_link_tokens: true,
  groups: true,
  group_members: true,
  group_permissions: true,
  sync_jobs: true,
  alerts: true,
  notifications: true,
  jira_event_attempts: true,
  memory_item_revisions: true,
  user_attributes: true,
  row_policies: true,
  policy_slices: true,
  rate_limit_counters: true,
  rebuild_requests: true,
  replicas: true,
} satisfies Record<keyof Database, true>;

/** The named indexes of `table`, without the one backing its primary key. */
async function indexesOf(db: StateDb, table: string): Promise<string[]> {
  const found =
    TEST_DIALECT === 'postgres'
      ? sql<{ name: string }>`SELECT indexname AS name FROM pg_indexes
          WHERE tablename = ${table} AND indexname NOT LIKE '%pkey' ORDER BY name`
      : sql<{ name: string }>`SELECT name FROM sqlite_master
          WHERE type = 'index' AND tbl_name = ${table} AND sql IS NOT NULL ORDER BY name`;
  return (await found.execute(db)).rows.map((r) => r.name);
}

/** The plan of `query`, as one string; PostgreSQL is kept from a sequential scan of the tiny test table. */
async function planOf(db: StateDb, query: string): Promise<string> {
  if (TEST_DIALECT === 'postgres')
    return db.transaction().execute(async (trx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      const plan = await sql<{ 'QUERY PLAN': string }>`EXPLAIN ${sql.raw(query)}`.execute(trx);
      return plan.rows.map((r) => r['QUERY PLAN']).join(' ');
    });
  const plan = await sql<{ detail: string }>`EXPLAIN QUERY PLAN ${sql.raw(query)}`.execute(db);
  return plan.rows.map((r) => r.detail).join(' ');
}

describe('migrateToLatest', () => {
  let database: TestDatabase;
  let db: StateDb;

  beforeEach(async (context) => {
    skipWithoutPostgres(context);
    database = await openTestDatabase({ migrated: false });
    db = database.db;
  });

  afterEach(async () => {
    await database?.remove();
  });

  it('creates every table of the Database type on an empty store and records the schema version', async () => {
    const applied = await migrateToLatest(db);

    const tables = await db.introspection.getTables();
    expect(applied).toEqual(Object.keys(MIGRATIONS));
    expect(tables.map((table) => table.name).sort()).toEqual(Object.keys(DATABASE_TABLES).sort());
    expect(await schemaVersion(db)).toBe(Object.keys(MIGRATIONS).length);
  });

  it('moves the catalog revision with every write to sync_state or table_registry, and only then', async () => {
    await migrateToLatest(db);
    const repos = createRepositories(db);
    const before = await repos.revisions.catalog();
    await repos.users.create({ email: 'a@example.com', name: 'A' });
    expect(await repos.revisions.catalog()).toBe(before);
    await repos.registry.register({ id: 'orders', name: 'Orders', source: 'shop', source_type: 'local' });
    const registered = await repos.revisions.catalog();
    expect(registered).toBeGreaterThan(before);
    await repos.registry.update('orders', { description: 'All orders' });
    const updated = await repos.revisions.catalog();
    expect(updated).toBeGreaterThan(registered);
    await repos.registry.delete('orders');
    expect(await repos.revisions.catalog()).toBeGreaterThan(updated);
  });

  it('moves the principals and grants revisions with the writes that change them, not a token’s last use', async () => {
    await migrateToLatest(db);
    const { revisions, users, tokens, permissions } = createRepositories(db);
    const user = await users.create({ email: 'p@example.com' });
    const token = await tokens.create({
      user_id: user.id,
      name: 't',
      token_hash: 'h',
      prefix: 'p',
      expires_at: null,
    });
    const principals = await revisions.principals();
    const grants = await revisions.grants();

    await tokens.touchLastUsed(token.id, '127.0.0.1');
    expect(await revisions.principals()).toBe(principals);
    await tokens.revoke(token.id, user.id);
    expect(await revisions.principals()).toBeGreaterThan(principals);
    expect(await revisions.grants()).toBe(grants);
    await permissions.grantUser(user.id, { dataset: 'orders', access: 'read', granted_by: null });
    expect(await revisions.grants()).toBeGreaterThan(grants);
  });

  it('gives the scheduler an index for the newest sync starts', async () => {
    await migrateToLatest(db);
    const plan = await planOf(
      db,
      `SELECT id FROM sync_jobs WHERE kind = 'sync' AND started_at IS NOT NULL
       ORDER BY started_at DESC, id DESC LIMIT 100`,
    );
    expect(plan).toContain('sync_jobs_kind_started');
    expect(plan).not.toMatch(/TEMP B-TREE|Sort/);
  });

  // Replicas share PostgreSQL only (13 §3): two SQLite connections in one process cannot wait for
  // each other's write lock, since better-sqlite3 blocks the thread that holds the other.
  if (TEST_DIALECT === 'postgres')
    it('migrates once when two replicas start together, leaving one schema version row', async () => {
      const other = openStateDb(database.dataDir, database.postgres);
      try {
        const [first, second] = await Promise.all([migrateToLatest(db), migrateToLatest(other)]);

        expect([first, second].sort((a, b) => a.length - b.length)).toEqual([[], Object.keys(MIGRATIONS)]);
        expect(await db.selectFrom('schema_version').select('version').execute()).toEqual([
          { version: Object.keys(MIGRATIONS).length },
        ]);
      } finally {
        await other.destroy();
      }
    });

  it('gives text columns bytewise order and case-sensitive equality on every dialect', async () => {
    await migrateToLatest(db);
    const at = '2026-01-01T00:00:00.000Z';
    await db
      .insertInto('groups')
      .values(
        ['beta', 'Alpha', '_ops', 'alpha'].map((name) => ({
          id: name,
          name,
          name_key: name,
          created_at: at,
        })),
      )
      .execute();

    const sorted = await db.selectFrom('groups').select('name').orderBy('name').execute();
    const equal = await db.selectFrom('groups').select('id').where('name', '=', 'ALPHA').execute();

    expect(sorted.map((row) => row.name)).toEqual(['Alpha', '_ops', 'alpha', 'beta']);
    expect(equal).toEqual([]);
  });

  it('upgrades a store of an earlier release: new migrations only ever come after the released ones', async () => {
    // What stop 11 shipped. A store that applied these refuses a migration ordered among them, so
    // a release's list is always a prefix of the next one's, numbers rising.
    const released = [
      '0001_initial',
      '0002_state_revisions',
      '0003_audit_client_mcp',
      '0004_jira_event_attempts',
      '0005_sync_jobs_started',
      '0006_notifications_access_request',
      '0011_memory_item_revisions',
    ];
    const names = Object.keys(MIGRATIONS);
    expect(names.slice(0, released.length)).toEqual(released);
    expect([...names].sort()).toEqual(names);

    await migrateToVersion(db, released.length);
    expect(await schemaVersion(db)).toBe(released.length);
    await migrateToLatest(db);
    expect(await schemaVersion(db)).toBe(names.length);
  });

  it('is a no-op when run again', async () => {
    await migrateToLatest(db);
    const versionRows = await db.selectFrom('schema_version').selectAll().execute();

    expect(await migrateToLatest(db)).toEqual([]);
    expect(await db.selectFrom('schema_version').selectAll().execute()).toEqual(versionRows);
  });

  it('refuses a store holding a migration this version does not know, naming it', async () => {
    await migrateToLatest(db);
    // biome-ignore lint/suspicious/noExplicitAny: Kysely's ledger table is not part of the schema type
    const ledger = db as unknown as Kysely<any>;
    await ledger
      .insertInto('kysely_migration')
      .values({ name: '9999_from_the_future', timestamp: new Date().toISOString() })
      .execute();

    const attempt = migrateToLatest(db);

    await expect(attempt).rejects.toBeInstanceOf(MigrationError);
    await expect(attempt).rejects.toThrow(/9999_from_the_future/);
  });

  it('widens audit_log.client to mcp and keeps the rows a store already had', async () => {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
    expect((await migrator.migrateTo('0001_initial')).error).toBeUndefined();
    const row = { action: 'query.execute', result: 'ok' as const, timestamp: '2026-01-01T00:00:00.000Z' };
    await db
      .insertInto('audit_log')
      .values({ ...row, id: 'before', client: 'cli' })
      .execute();
    await expect(
      db
        .insertInto('audit_log')
        .values({ ...row, id: 'early-mcp', client: 'mcp' })
        .execute(),
    ).rejects.toThrow(/check/i);

    // Every migration after the first, 0003 among them.
    const applied = await migrateToLatest(db);
    expect(applied).toEqual(Object.keys(MIGRATIONS).slice(1));
    expect(applied).toContain('0003_audit_client_mcp');
    await db
      .insertInto('audit_log')
      .values({ ...row, id: 'after', client: 'mcp' })
      .execute();
    await expect(
      db
        .insertInto('audit_log')
        .values({ ...row, id: 'other', client: 'robot' as 'mcp' })
        .execute(),
    ).rejects.toThrow(/check/i);

    const rows = await db.selectFrom('audit_log').select(['id', 'client']).orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'after', client: 'mcp' },
      { id: 'before', client: 'cli' },
    ]);
    expect(await indexesOf(db, 'audit_log')).toEqual([
      'audit_log_action',
      'audit_log_timestamp',
      'audit_log_user',
    ]);
  });

  it('widens notifications.source_kind to access_request, keeping rows and the inbox index', async () => {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
    expect((await migrator.migrateTo('0005_sync_jobs_started')).error).toBeUndefined();
    const user = await createRepositories(db).users.create({ email: 'n@example.com', role: 'viewer' });
    const row = {
      user_id: user.id,
      title: 'T',
      message: 'M',
      created_at: '2026-01-01T00:00:00.000Z',
      telegram_status: 'pending' as const,
      ws_status: 'sent' as const,
      attempts: 2,
      next_attempt_at: '2026-01-01T00:02:00.000Z',
    };
    await db
      .insertInto('notifications')
      .values({ ...row, id: 'before', source_kind: 'system', source_id: 'r1' })
      .execute();
    await expect(
      db
        .insertInto('notifications')
        .values({ ...row, id: 'early', source_kind: 'access_request' })
        .execute(),
    ).rejects.toThrow(/check/i);

    expect(await migrateToLatest(db)).toContain('0006_notifications_access_request');
    await db
      .insertInto('notifications')
      .values({ ...row, id: 'after', source_kind: 'access_request', source_id: 'r2' })
      .execute();
    await expect(
      db
        .insertInto('notifications')
        .values({ ...row, id: 'other', source_kind: 'robot' as 'system' })
        .execute(),
    ).rejects.toThrow(/check/i);
    const rows = await db.selectFrom('notifications').selectAll().orderBy('id').execute();
    expect(rows).toEqual([
      {
        ...row,
        id: 'after',
        source_kind: 'access_request',
        source_id: 'r2',
        read_at: null,
        last_error: null,
      },
      { ...row, id: 'before', source_kind: 'system', source_id: 'r1', read_at: null, last_error: null },
    ]);
    expect(await indexesOf(db, 'notifications')).toEqual(['notifications_due', 'notifications_user']);
    // Deleting the user still takes their notifications with them.
    await db.deleteFrom('users').where('id', '=', user.id).execute();
    expect(await db.selectFrom('notifications').selectAll().execute()).toEqual([]);
  });
});

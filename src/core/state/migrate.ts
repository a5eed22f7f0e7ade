import { type Kysely, type Migration, type MigrationResultSet, Migrator } from 'kysely';
import type { StateDb } from './db.js';
import * as m0001 from './migrations/0001_initial.js';
import * as m0002 from './migrations/0002_state_revisions.js';
import * as m0003 from './migrations/0003_audit_client_mcp.js';
import * as m0004 from './migrations/0004_jira_event_attempts.js';
import * as m0005 from './migrations/0005_sync_jobs_started.js';
import * as m0006 from './migrations/0006_notifications_access_request.js';
import * as m0011 from './migrations/0011_memory_item_revisions.js';
import * as m0012 from './migrations/0012_row_policies.js';
import * as m0013 from './migrations/0013_replicas.js';
import * as m0014 from './migrations/0014_rebuild_requests.js';
import * as m0015 from './migrations/0015_replica_heartbeats.js';

/**
 * Forward-only migrations, in order. A new migration is a new file added at the END, numbered after
 * the last: a store that has applied the last one refuses a migration ordered before it, and the
 * schema version is a migration's position.
 */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': m0001,
  '0002_state_revisions': m0002,
  '0003_audit_client_mcp': m0003,
  '0004_jira_event_attempts': m0004,
  '0005_sync_jobs_started': m0005,
  '0006_notifications_access_request': m0006,
  '0011_memory_item_revisions': m0011,
  '0012_row_policies': m0012,
  '0013_replicas': m0013,
  '0014_rebuild_requests': m0014,
  '0015_replica_heartbeats': m0015,
};

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/**
 * Each migration also records the schema version it reaches, in its own transaction and under
 * the migration lock (an advisory lock on PostgreSQL, the write lock on SQLite), so processes
 * starting together migrate once and leave exactly one `schema_version` row.
 */
const VERSIONED_MIGRATIONS: Record<string, Migration> = Object.fromEntries(
  Object.entries(MIGRATIONS).map(([name, migration], index) => [
    name,
    {
      // biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time
      up: async (db: Kysely<any>) => {
        await migration.up(db);
        await db.deleteFrom('schema_version').execute();
        await db
          .insertInto('schema_version')
          .values({ version: index + 1, applied_at: new Date().toISOString() })
          .execute();
      },
    },
  ]),
);

function migrator(db: StateDb): Migrator {
  return new Migrator({ db, provider: { getMigrations: async () => VERSIONED_MIGRATIONS } });
}

export interface MigrationStatus {
  name: string;
  executedAt: string | null;
}

/** Applied and pending migrations; a migration the code does not know is an error. */
export async function migrationStatus(db: StateDb): Promise<MigrationStatus[]> {
  const known = await migrator(db).getMigrations();
  await refuseUnknownMigrations(db);
  return known.map((m) => ({ name: m.name, executedAt: m.executedAt ? m.executedAt.toISOString() : null }));
}

async function refuseUnknownMigrations(db: StateDb): Promise<void> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((table) => table.name === 'kysely_migration')) return;
  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own ledger table is not part of our schema type
  const ledger = db as unknown as Kysely<any>;
  const applied: { name: string }[] = await ledger
    .selectFrom('kysely_migration')
    .select('name')
    .orderBy('name')
    .execute();
  const unknown = applied.map((row) => row.name).filter((name) => !(name in MIGRATIONS));
  if (unknown.length > 0) {
    throw new MigrationError(
      `state store has migration ${unknown.join(', ')} that this version does not know; refusing to start (no downgrade)`,
    );
  }
}

function succeeded({ error, results }: MigrationResultSet): NonNullable<MigrationResultSet['results']> {
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(
      `migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return results ?? [];
}

/** Applies pending migrations under Kysely's migration lock (each records `schema_version`). */
export async function migrateToLatest(db: StateDb): Promise<string[]> {
  await refuseUnknownMigrations(db);
  const results = succeeded(await migrator(db).migrateToLatest());
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function schemaVersion(db: StateDb): Promise<number | null> {
  const row = await db.selectFrom('schema_version').select('version').executeTakeFirst();
  return row?.version ?? null;
}

/**
 * Applies migrations up to the `version`-th and no further: a restore loads a snapshot into the
 * schema it was taken from, then migrates to the latest (13 §4).
 */
export async function migrateToVersion(db: StateDb, version: number): Promise<void> {
  const name = Object.keys(MIGRATIONS)[version - 1];
  if (!name) throw new MigrationError(`schema version ${version} is not one this version knows`);
  await refuseUnknownMigrations(db);
  succeeded(await migrator(db).migrateTo(name));
}

/** The schema version this program migrates to. */
export function latestSchemaVersion(): number {
  return Object.keys(MIGRATIONS).length;
}

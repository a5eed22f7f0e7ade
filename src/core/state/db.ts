import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { type DialectAdapter, Kysely, type MigrationLockOptions, SqliteAdapter, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';
import { SqlitePortabilityPlugin } from './sqlite-plugin.js';

export type StateDb = Kysely<Database>;

export function stateDbPath(dataDir: string): string {
  return join(dataDir, 'state', 'system.sqlite');
}

/**
 * Opens the state store. The dialect is chosen here and nowhere else, so a Postgres backend only
 * adds a branch to this factory; repositories see the same Kysely interface either way.
 */
export function openStateDb(dataDir: string): StateDb {
  mkdirSync(join(dataDir, 'state'), { recursive: true, mode: 0o750 });
  return openSqliteFile(stateDbPath(dataDir));
}

/**
 * SQLite does support transactional DDL; Kysely's adapter just says otherwise. With it on, each
 * migration batch runs in one transaction, and the lock below makes it start with a write, so a
 * second process waits for SQLite's write lock (busy_timeout) instead of racing the first.
 */
class MigratingSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }

  // biome-ignore lint/suspicious/noExplicitAny: Kysely's own signature
  override async acquireMigrationLock(db: Kysely<any>, options: MigrationLockOptions): Promise<void> {
    await db
      .updateTable(options.lockTable)
      .set({ is_locked: 1 })
      .where('id', '=', options.lockRowId)
      .execute();
  }
}

const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every statement anew; preparing costs as much as running a small query. Queries
 * of one shape compile to the same SQL text, so statements are kept by text (LRU-bounded). Safe
 * because better-sqlite3 runs a statement to completion before returning; the one stream (a
 * backup's table dump) runs alone on its own connection, one statement at a time.
 */
function cachePreparedStatements(database: SQLite.Database): SQLite.Database {
  const prepare = database.prepare.bind(database);
  const cache = new Map<string, SQLite.Statement>();
  database.prepare = ((source: string) => {
    let statement = cache.get(source);
    if (statement) {
      cache.delete(source);
    } else {
      statement = prepare(source);
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    }
    cache.set(source, statement);
    return statement;
  }) as typeof database.prepare;
  return database;
}

class StateSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new MigratingSqliteAdapter();
  }
}

const SQLITE_HANDLES = new WeakMap<StateDb, SQLite.Database>();

/**
 * The SQLite connection under a state store opened here, for the few reads on every request that
 * must not queue behind Kysely's connection mutex (revision counters); undefined for any other
 * handle (a transaction, another dialect), whose callers use Kysely.
 */
export function sqliteHandle(db: unknown): SQLite.Database | undefined {
  return SQLITE_HANDLES.get(db as StateDb);
}

export function openSqliteFile(path: string): StateDb {
  // Created 0640 before SQLite opens it: the state holds password hashes, and SQLite gives its
  // -wal and -shm files the database file's permissions.
  closeSync(openSync(path, 'a', 0o640));
  const database = cachePreparedStatements(new SQLite(path));
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: new StateSqliteDialect({ database }),
    plugins: [new SqlitePortabilityPlugin()],
  });
  SQLITE_HANDLES.set(db, database);
  return db;
}

import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  type DialectAdapter,
  Kysely,
  type MigrationLockOptions,
  PostgresAdapter,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
} from 'kysely';
import type pg from 'pg';
import { postgresPool } from './postgres-pool.js';
import type { Database } from './schema.js';
import { SqlitePortabilityPlugin } from './sqlite-plugin.js';

export type StateDb = Kysely<Database>;

export function stateDbPath(dataDir: string): string {
  return join(dataDir, 'state', 'system.sqlite');
}

export type StateDialect = 'sqlite' | 'postgres';

/** Where the state lives when it is not the SQLite file under DATA_DIR (13 §2). */
export interface PostgresStore {
  /** `postgres://…`, from `DATABASE_URL`. */
  url: string;
  /** `state.pool_size`. */
  poolSize: number;
  /** `state.connect_timeout_seconds`. */
  connectTimeoutSeconds: number;
}

/** The PostgreSQL store `DATABASE_URL` names (validated by the config loader), or none for SQLite. */
export function postgresStore(
  settings: { pool_size: number; connect_timeout_seconds: number },
  databaseUrl: string | undefined,
): PostgresStore | undefined {
  if (!databaseUrl) return undefined;
  return {
    url: databaseUrl,
    poolSize: settings.pool_size,
    connectTimeoutSeconds: settings.connect_timeout_seconds,
  };
}

/**
 * Opens the state store: PostgreSQL when `postgres` is given, else the SQLite file under
 * `dataDir`. The dialect is chosen here and nowhere else; repositories see the same Kysely
 * interface and the same value shapes either way.
 */
export function openStateDb(dataDir: string, postgres?: PostgresStore): StateDb {
  if (postgres) return openPostgres(postgres);
  mkdirSync(join(dataDir, 'state'), { recursive: true, mode: 0o750 });
  return openSqliteFile(stateDbPath(dataDir));
}

/** Which database a store (or a transaction on it) runs on; health shows it (13 §3). */
// biome-ignore lint/suspicious/noExplicitAny: migrations ask too, with a Kysely of their own time's schema
export function stateDialect(db: Kysely<any>): StateDialect {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

const POSTGRES_POOLS = new WeakMap<StateDb, pg.Pool>();

function openPostgres(store: PostgresStore): StateDb {
  const pool = postgresPool(store);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  POSTGRES_POOLS.set(db, pool);
  return db;
}

/**
 * The pool under a PostgreSQL state store opened here, for the one-row reads made on every request
 * (revision counters) as named statements, which the server parses and plans once per connection;
 * undefined for any other handle (a transaction, another dialect), whose callers use Kysely.
 */
export function postgresHandle(db: unknown): pg.Pool | undefined {
  return POSTGRES_POOLS.get(db as StateDb);
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

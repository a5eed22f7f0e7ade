import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
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

export function openSqliteFile(path: string): StateDb {
  const database = new SQLite(path);
  database.pragma('journal_mode = WAL');
  database.pragma('synchronous = NORMAL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  return new Kysely<Database>({
    dialect: new SqliteDialect({ database }),
    plugins: [new SqlitePortabilityPlugin()],
  });
}

import { existsSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { openStateDb, type PostgresStore, stateDbPath } from './db.js';

/**
 * Whether another connection — another process such as `agnes serve` — has the state store open:
 * the PostgreSQL store given, else the SQLite store under `dataDir`.
 */
export async function stateStoreInUse(dataDir: string, postgres?: PostgresStore): Promise<boolean> {
  return postgres ? postgresInUse(postgres) : sqliteInUse(dataDir);
}

/**
 * Every WAL connection holds a shared lock on the store's shared memory for as long as it is open,
 * so a connection asking for exclusive locking is refused exactly while another one exists (on
 * this host).
 */
function sqliteInUse(dataDir: string): boolean {
  const path = stateDbPath(dataDir);
  if (!existsSync(path)) return false;
  const probe = new SQLite(path, { timeout: 1_000 });
  try {
    probe.pragma('locking_mode = EXCLUSIVE');
    probe.exec('BEGIN EXCLUSIVE');
    probe.exec('COMMIT');
    return false;
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY')) return true;
    throw error;
  } finally {
    probe.close();
  }
}

/**
 * Any other client session on the store's database, from any host: a server's pool keeps its
 * connections open. Background workers (autovacuum) are not clients and do not count.
 */
async function postgresInUse(store: PostgresStore): Promise<boolean> {
  const probe = openStateDb('', { ...store, poolSize: 1 });
  try {
    const { rows } = await sql<{ sessions: number }>`
      SELECT count(*) AS sessions FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`.execute(
      probe,
    );
    return rows[0]!.sessions > 0;
  } finally {
    await probe.destroy();
  }
}

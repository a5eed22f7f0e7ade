import { existsSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { stateDbPath } from './db.js';

/**
 * Whether another connection — another process such as `agnes serve`, on this host — has the
 * SQLite state store open. Every WAL connection holds a shared lock on the store's shared memory
 * for as long as it is open, so a connection asking for exclusive locking is refused exactly while
 * another one exists. (A PostgreSQL store would ask `pg_stat_activity` instead.)
 */
export function stateStoreInUse(dataDir: string): boolean {
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

import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/**
 * Runs `work` atomically. A repository bound to a caller's transaction joins it instead of
 * opening its own, because Kysely cannot nest transactions.
 */
export function inTransaction<T>(
  db: Kysely<Database>,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}

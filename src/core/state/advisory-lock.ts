import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

/**
 * Runs `work` while this process holds the PostgreSQL session advisory lock `name`, taken on one
 * pooled connection kept for the whole of `work`; null at once when another session holds it.
 * The lock dies with the session, so a replica that dies mid-work frees it for the others.
 */
export function whileHolding<T>(
  db: Kysely<Database>,
  name: string,
  work: () => Promise<T>,
): Promise<{ value: T } | null> {
  return db.connection().execute(async (session) => {
    const { rows } = await sql<{
      held: boolean;
    }>`select pg_try_advisory_lock(hashtext(${name})) as held`.execute(session);
    if (!rows[0]?.held) return null;
    try {
      return { value: await work() };
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${name}))`.execute(session);
    }
  });
}

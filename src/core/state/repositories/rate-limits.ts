import { type Kysely, sql } from 'kysely';
import { type Clock, systemClock } from '../../time.js';
import type { Database } from '../schema.js';

export interface WindowCount {
  /** Requests counted in the current window, this one included. */
  count: number;
  /** Milliseconds until the window ends. */
  ttlMs: number;
}

/**
 * Fixed-window rate-limit counters in the state store (13 §3), so replicas share one budget per
 * limit and key. One upsert per counted request: a window that has ended starts again at 1.
 */
export function createRateLimitsRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    async hit(key: string, windowMs: number): Promise<WindowCount> {
      const now = clock.now();
      const nowIso = now.toISOString();
      const ended = sql<boolean>`rate_limit_counters.window_ends_at <= ${nowIso}`;
      const row = await db
        .insertInto('rate_limit_counters')
        .values({ key, count: 1, window_ends_at: new Date(now.getTime() + windowMs).toISOString() })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({
            count: sql<number>`case when ${ended} then 1 else rate_limit_counters.count + 1 end`,
            window_ends_at: sql<string>`case when ${ended} then ${eb.ref('excluded.window_ends_at')} else rate_limit_counters.window_ends_at end`,
          })),
        )
        .returning(['count', 'window_ends_at'])
        .executeTakeFirstOrThrow();
      return { count: Number(row.count), ttlMs: Math.max(0, Date.parse(row.window_ends_at) - now.getTime()) };
    },

    /** The key's current window without counting: 0 and a whole window when none is open. */
    async read(key: string, windowMs: number): Promise<WindowCount> {
      const now = clock.now();
      const row = await db
        .selectFrom('rate_limit_counters')
        .select(['count', 'window_ends_at'])
        .where('key', '=', key)
        .where('window_ends_at', '>', now.toISOString())
        .executeTakeFirst();
      if (!row) return { count: 0, ttlMs: windowMs };
      return { count: Number(row.count), ttlMs: Date.parse(row.window_ends_at) - now.getTime() };
    },

    /** Deletes the windows that have ended (maintenance): a key seen once would otherwise stay forever. */
    async pruneEnded(): Promise<number> {
      const result = await db
        .deleteFrom('rate_limit_counters')
        .where('window_ends_at', '<=', clock.now().toISOString())
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type RateLimitsRepository = ReturnType<typeof createRateLimitsRepository>;

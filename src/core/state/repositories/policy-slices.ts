import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import type { Database, PolicySlicesTable } from '../schema.js';
import { isIn } from './in-list.js';

export type PolicySlice = Selectable<PolicySlicesTable>;

export type NewPolicySlice = Omit<PolicySlice, 'built_at' | 'last_used_at'>;

/**
 * Materialised policy slices (12 §3): one row per slice file, so maintenance can find the unused
 * and stale ones. Also answers which tables are policy-bound at all, the one question every read
 * path asks before anything else (admins included, for their `policy_bypass` audit).
 */
export function createPolicySlicesRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    get(sliceKey: string): Promise<PolicySlice | undefined> {
      return db.selectFrom('policy_slices').selectAll().where('slice_key', '=', sliceKey).executeTakeFirst();
    },

    /** Records a built slice; a rebuild of the same key (its file was lost) replaces the figures. */
    upsert(input: NewPolicySlice): Promise<PolicySlice> {
      const now = nowIso(clock);
      const replaced = {
        rows: input.rows,
        size_bytes: input.size_bytes,
        sha256: input.sha256,
        built_at: now,
        last_used_at: now,
      };
      return db
        .insertInto('policy_slices')
        .values({ ...input, built_at: now, last_used_at: now })
        .onConflict((oc) => oc.column('slice_key').doUpdateSet(replaced))
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** Stamps a use; the caller throttles, so a busy slice is not one write per request. */
    async touch(sliceKey: string): Promise<void> {
      await db
        .updateTable('policy_slices')
        .set({ last_used_at: nowIso(clock) })
        .where('slice_key', '=', sliceKey)
        .execute();
    },

    /** Every slice, oldest use first, for maintenance (a few per bound table and binding). */
    list(): Promise<PolicySlice[]> {
      return db.selectFrom('policy_slices').selectAll().orderBy('last_used_at').execute();
    },

    async delete(sliceKeys: readonly string[]): Promise<number> {
      if (sliceKeys.length === 0) return 0;
      const result = await db
        .deleteFrom('policy_slices')
        .where((eb) => isIn(eb, 'slice_key', sliceKeys))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type PolicySlicesRepository = ReturnType<typeof createPolicySlicesRepository>;

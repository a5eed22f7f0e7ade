import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import { toJson } from '../column-values.js';
import type { Database, TableProfilesTable } from '../schema.js';

export type TableProfile = Selectable<TableProfilesTable>;

export interface ProfileInput {
  table_id: string;
  profile: Record<string, unknown>;
  /** Content hash that was profiled; an unchanged hash means no re-profile is needed. */
  source_hash: string | null;
  duration_ms: number | null;
}

export function createProfilesRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    get(tableId: string): Promise<TableProfile | undefined> {
      return db.selectFrom('table_profiles').selectAll().where('table_id', '=', tableId).executeTakeFirst();
    },

    upsert(input: ProfileInput): Promise<TableProfile> {
      const replaced = {
        profile: toJson(input.profile),
        profiled_at: nowIso(clock),
        source_hash: input.source_hash,
        duration_ms: input.duration_ms,
      };
      return db
        .insertInto('table_profiles')
        .values({ table_id: input.table_id, ...replaced })
        .onConflict((oc) => oc.column('table_id').doUpdateSet(replaced))
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    async delete(tableId: string): Promise<boolean> {
      const result = await db.deleteFrom('table_profiles').where('table_id', '=', tableId).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    list(): Promise<TableProfile[]> {
      return db.selectFrom('table_profiles').selectAll().orderBy('table_id').execute();
    },

    /** Which tables have a profile, without loading the profile documents (catalog listings). */
    summaries(): Promise<Pick<TableProfile, 'table_id' | 'profiled_at' | 'source_hash'>[]> {
      return db
        .selectFrom('table_profiles')
        .select(['table_id', 'profiled_at', 'source_hash'])
        .orderBy('table_id')
        .execute();
    },
  };
}

export type ProfilesRepository = ReturnType<typeof createProfilesRepository>;

import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import type { Database, TableRegistryTable } from '../schema.js';
import { translateViolations } from './constraint-errors.js';

export type RegistryEntry = Selectable<TableRegistryTable>;

type Defaulted =
  | 'bucket'
  | 'sync_strategy'
  | 'query_mode'
  | 'profile_after_sync'
  | 'is_public'
  | 'is_discoverable';
type Stamped = 'registered_at' | 'updated_at';

/** Required identity and origin; every other column takes its documented default when omitted. */
export type NewRegistryEntry = Pick<RegistryEntry, 'id' | 'name' | 'source' | 'source_type'> &
  Partial<Omit<RegistryEntry, 'id' | 'name' | 'source' | 'source_type' | Stamped>>;

export type RegistryPatch = Partial<Omit<RegistryEntry, 'id' | Stamped>>;

const DEFAULTS: Pick<RegistryEntry, Defaulted> = {
  bucket: '',
  sync_strategy: 'full_refresh',
  query_mode: 'local',
  profile_after_sync: true,
  // Default-deny (04-auth-and-access.md §6.1): a table is public only when registered as such.
  is_public: false,
  is_discoverable: true,
};

export function createRegistryRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    register(input: NewRegistryEntry): Promise<RegistryEntry> {
      const now = nowIso(clock);
      const insert = db
        .insertInto('table_registry')
        .values({ ...DEFAULTS, source_table: input.name, ...input, registered_at: now, updated_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
      return translateViolations(insert, { unique: `table ${input.id} is already registered` });
    },

    get(id: string): Promise<RegistryEntry | undefined> {
      return db.selectFrom('table_registry').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** Ordered by name, then id. */
    list(filter: { source?: string } = {}): Promise<RegistryEntry[]> {
      let query = db.selectFrom('table_registry').selectAll().orderBy('name').orderBy('id');
      if (filter.source !== undefined) query = query.where('source', '=', filter.source);
      return query.execute();
    },

    /** Changes only the given fields; `registered_at` is never touched, `updated_at` always is. */
    update(id: string, patch: RegistryPatch): Promise<RegistryEntry | undefined> {
      return db
        .updateTable('table_registry')
        .set({ ...patch, updated_at: nowIso(clock) })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('table_registry').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Distinct buckets in use, sorted; '' is the `default` dataset (04-auth-and-access.md §6.3). */
    async listBuckets(): Promise<string[]> {
      const rows = await db
        .selectFrom('table_registry')
        .select('bucket')
        .distinct()
        .orderBy('bucket')
        .execute();
      return rows.map((row) => row.bucket);
    },
  };
}

export type RegistryRepository = ReturnType<typeof createRegistryRepository>;

import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export interface RevisionsRepository {
  /**
   * A number that changes whenever `sync_state` or `table_registry` is written, by any process
   * (database triggers): equal values mean what a cache derived from those tables still holds.
   */
  catalog(): Promise<number>;
}

export function createRevisionsRepository(db: Kysely<Database>): RevisionsRepository {
  return {
    async catalog() {
      const row = await db
        .selectFrom('state_revisions')
        .select('n')
        .where('name', '=', 'catalog')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

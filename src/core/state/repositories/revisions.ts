import type { Kysely } from 'kysely';
import { sqliteHandle } from '../db.js';
import type { Database } from '../schema.js';

export type RevisionName = 'catalog' | 'principals' | 'grants';

export interface RevisionsRepository {
  /**
   * A number that changes whenever `sync_state` or `table_registry` is written, by any process
   * (database triggers): equal values mean what a cache derived from those tables still holds.
   */
  catalog(): Promise<number>;
  /** Likewise for users, group memberships and names, token revocation or expiry, and user attributes. */
  principals(): Promise<number>;
  /** Likewise for direct and group grants, memberships and group names. */
  grants(): Promise<number>;
}

const REVISION_SQL = 'SELECT n FROM state_revisions WHERE name = ?';

export function createRevisionsRepository(db: Kysely<Database>): RevisionsRepository {
  // SQLite answers this one-row read directly: through Kysely it would wait its turn behind every
  // query queued on the connection, which is the cost the caches exist to avoid. (Statements are
  // cached by text, so preparing on each call is a map lookup.)
  const handle = sqliteHandle(db);
  const read = handle
    ? async (name: RevisionName) =>
        Number(handle.prepare<[string], { n: number | bigint }>(REVISION_SQL).get(name)?.n ?? 0)
    : async (name: RevisionName) => {
        const row = await db
          .selectFrom('state_revisions')
          .select('n')
          .where('name', '=', name)
          .executeTakeFirst();
        return Number(row?.n ?? 0);
      };
  return {
    catalog: () => read('catalog'),
    principals: () => read('principals'),
    grants: () => read('grants'),
  };
}

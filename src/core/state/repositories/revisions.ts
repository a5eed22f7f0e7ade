import type { Kysely } from 'kysely';
import { postgresHandle, sqliteHandle } from '../db.js';
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
const POSTGRES_REVISION = {
  name: 'agnes_state_revision',
  text: 'SELECT n FROM state_revisions WHERE name = $1',
};

export function createRevisionsRepository(db: Kysely<Database>): RevisionsRepository {
  const viaKysely = async (name: RevisionName) => {
    const row = await db
      .selectFrom('state_revisions')
      .select('n')
      .where('name', '=', name)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  };
  // SQLite answers this one-row read directly: through Kysely it would wait its turn behind every
  // query queued on the connection, which is the cost the caches exist to avoid. (Statements are
  // cached by text, so preparing on each call is a map lookup.) Not while a transaction is open on
  // the connection, though: the read would see its uncommitted bump, and a value cached under that
  // number after a rollback would be served again once a later write reaches the same number.
  // PostgreSQL gets it as a named statement: one round trip either way, but parsed and planned once
  // per connection rather than on every request.
  const handle = sqliteHandle(db);
  const pool = postgresHandle(db);
  const read = handle
    ? async (name: RevisionName) =>
        handle.inTransaction
          ? viaKysely(name)
          : Number(handle.prepare<[string], { n: number | bigint }>(REVISION_SQL).get(name)?.n ?? 0)
    : pool
      ? async (name: RevisionName) => {
          // Through connect(), not pool.query(): the pool's connect names the store in its errors.
          const client = await pool.connect();
          try {
            const { rows } = await client.query<{ n: number }>({ ...POSTGRES_REVISION, values: [name] });
            return Number(rows[0]?.n ?? 0);
          } finally {
            client.release();
          }
        }
      : viaKysely;
  return {
    catalog: () => read('catalog'),
    principals: () => read('principals'),
    grants: () => read('grants'),
  };
}

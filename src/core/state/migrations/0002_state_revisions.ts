import { type Kysely, sql } from 'kysely';
import { stateDialect } from '../db.js';

/**
 * Counters that database triggers bump, in the writer's own transaction, whenever rows a cache
 * derives from change: readers keep what they derived and reload only when the counter moved.
 * Triggers rather than repository code, so a write from any process or code path invalidates the
 * caches, and a forgotten invalidation cannot show an unregistered table or let a deactivated
 * user in.
 *
 * - `catalog`: `sync_state` and `table_registry` (the manifest's table entries).
 * - `principals`: what authenticates a request — users, their groups and group names, token
 *   revocation and expiry (not a token's last use, which is written every minute).
 * - `grants`: direct and group grants, memberships and group names (the access function's input).
 */
const WATCHED: readonly { revision: string; table: string; columns?: readonly string[] }[] = [
  { revision: 'catalog', table: 'sync_state' },
  { revision: 'catalog', table: 'table_registry' },
  { revision: 'principals', table: 'users' },
  { revision: 'principals', table: 'group_members' },
  { revision: 'principals', table: 'groups' },
  { revision: 'principals', table: 'revoked_tokens' },
  { revision: 'grants', table: 'dataset_permissions' },
  { revision: 'grants', table: 'group_permissions' },
  { revision: 'grants', table: 'group_members' },
  { revision: 'grants', table: 'groups' },
  {
    revision: 'principals',
    table: 'personal_access_tokens',
    columns: ['id', 'user_id', 'name', 'token_hash', 'prefix', 'created_at', 'expires_at', 'revoked_at'],
  },
];

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('state_revisions')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('n', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db
    .insertInto('state_revisions')
    .values([
      { name: 'catalog', n: 0 },
      { name: 'principals', n: 0 },
      { name: 'grants', n: 0 },
    ])
    .execute();
  const bump = (revision: string) => `UPDATE state_revisions SET n = n + 1 WHERE name = '${revision}'`;
  const postgres = stateDialect(db) === 'postgres';
  if (postgres)
    for (const revision of new Set(WATCHED.map((w) => w.revision)))
      await sql
        .raw(
          `CREATE FUNCTION bump_${revision}_revision() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${bump(revision)}; RETURN NULL; END $$`,
        )
        .execute(db);
  for (const { revision, table, columns } of WATCHED)
    for (const event of ['INSERT', 'UPDATE', 'DELETE']) {
      const on = event === 'UPDATE' && columns ? `UPDATE OF ${columns.join(', ')}` : event;
      const name = `${table}_${event.toLowerCase()}_${revision}_revision`;
      const statement = postgres
        ? `CREATE TRIGGER ${name} AFTER ${on} ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION bump_${revision}_revision()`
        : `CREATE TRIGGER ${name} AFTER ${on} ON ${table} BEGIN ${bump(revision)}; END`;
      await sql.raw(statement).execute(db);
    }
}

import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * A counter every write to `sync_state` or `table_registry` bumps, by trigger, in the writer's
 * own transaction: readers cache what they derive from those tables (the manifest's table
 * entries) and reload only when it moved. Triggers rather than repository code, so a write from
 * any process or code path invalidates the caches, and a missed invalidation cannot show an
 * unregistered table.
 */
const WATCHED = ['sync_state', 'table_registry'] as const;

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('state_revisions')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('n', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.insertInto('state_revisions').values({ name: 'catalog', n: 0 }).execute();
  const bump = "UPDATE state_revisions SET n = n + 1 WHERE name = 'catalog'";
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    await sql
      .raw(
        `CREATE FUNCTION bump_catalog_revision() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN ${bump}; RETURN NULL; END $$`,
      )
      .execute(db);
    for (const table of WATCHED)
      await sql
        .raw(
          `CREATE TRIGGER ${table}_catalog_revision AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION bump_catalog_revision()`,
        )
        .execute(db);
    return;
  }
  for (const table of WATCHED)
    for (const event of ['INSERT', 'UPDATE', 'DELETE'])
      await sql
        .raw(
          `CREATE TRIGGER ${table}_${event.toLowerCase()}_catalog_revision AFTER ${event} ON ${table} BEGIN ${bump}; END`,
        )
        .execute(db);
}

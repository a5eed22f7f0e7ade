import type { Kysely } from 'kysely';

/**
 * The scheduler asks, every tick, when each table's last sync started: newest sync jobs first,
 * paged by (started_at, id). Without this index each page sorts the whole job history, and a
 * table never synced makes the scan read all of it.
 */
// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('sync_jobs_kind_started')
    .on('sync_jobs')
    .columns(['kind', 'started_at', 'id'])
    .execute();
}

import type { Kysely } from 'kysely';
import { portableTypes } from './column-types.js';

/**
 * Rebuilds across replicas (02 §2.5, 13 §3): every request is a row, claimed by the one run that
 * covers it and answered with that run's outcome, so a caller on any replica gets the report of
 * the run that covered its request. The run itself is serialised by an advisory lock.
 */
// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  const t = portableTypes(db);
  await db.schema
    .createTable('rebuild_requests')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('kind', t.text, (c) => c.notNull())
    .addColumn('source', t.text)
    .addColumn('requested_by', t.text, (c) => c.notNull())
    .addColumn('requested_at', t.ts, (c) => c.notNull())
    .addColumn('run_id', t.text)
    .addColumn('finished_at', t.ts)
    .addColumn('outcome', t.json)
    .execute();
  await db.schema
    .createIndex('rebuild_requests_unfinished')
    .on('rebuild_requests')
    .column('finished_at')
    .execute();
}

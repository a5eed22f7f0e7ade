import type { Kysely } from 'kysely';
import { portableTypes } from './column-types.js';

/**
 * Replicas sharing one store (13 §3): a running job names the replica that claimed it and when
 * that replica last said it was still at work, so any replica can tell a job whose runner died
 * from one that is merely long. Rate-limit windows are counted in the store (with PostgreSQL), so
 * a limit holds across replicas: one row per limit and key, reset when its window has ended.
 */
// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  const t = portableTypes(db);
  await db.schema.alterTable('sync_jobs').addColumn('claimed_by', t.text).execute();
  await db.schema.alterTable('sync_jobs').addColumn('heartbeat_at', t.ts).execute();
  await db.schema
    .createTable('rate_limit_counters')
    .addColumn('key', t.text, (c) => c.primaryKey())
    .addColumn('count', t.int, (c) => c.notNull())
    .addColumn('window_ends_at', t.ts, (c) => c.notNull())
    .execute();
}

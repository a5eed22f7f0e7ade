import type { Kysely } from 'kysely';
import { portableTypes } from './column-types.js';

/**
 * The replicas sharing one store (13 §3), each while it runs: a row at start, its heartbeat every
 * `jobs.heartbeat_seconds`, gone at a clean stop. Maintenance tells a dead replica's temp
 * directory from a live one's by it. Ephemeral: backups do not carry it.
 */
// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  const t = portableTypes(db);
  await db.schema
    .createTable('replicas')
    .addColumn('instance_id', t.id, (c) => c.primaryKey())
    .addColumn('host', t.text, (c) => c.notNull())
    .addColumn('started_at', t.ts, (c) => c.notNull())
    .addColumn('heartbeat_at', t.ts, (c) => c.notNull())
    .execute();
}

import type { Kysely } from 'kysely';
import { portableTypes } from './column-types.js';

/** Attempt counts of Jira webhook events that failed (07 §5.7: "the attempt count lives in the state store"). */
// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  const t = portableTypes(db);
  await db.schema
    .createTable('jira_event_attempts')
    .addColumn('event_id', t.id, (c) => c.primaryKey())
    .addColumn('attempts', t.int, (c) => c.notNull())
    .addColumn('next_attempt_at', t.ts, (c) => c.notNull())
    .addColumn('last_error_code', t.text, (c) => c.notNull())
    .addColumn('last_attempt_at', t.ts, (c) => c.notNull())
    .execute();
}

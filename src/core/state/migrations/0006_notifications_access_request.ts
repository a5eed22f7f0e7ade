import { type Kysely, sql } from 'kysely';
import { portableTypes } from './column-types.js';

/**
 * `notifications.source_kind` gains `access_request` (08 §9: access-request notifications name
 * the request). A CHECK constraint cannot be altered in place in SQLite, so the table is rebuilt
 * with the wider list and its rows copied. The outbox dispatcher asks for due rows on every wake,
 * so `next_attempt_at` (null once nothing is left to deliver) gets its own index.
 */

const SOURCE_KINDS = ['alert', 'script', 'system', 'access_request'] as const;
const DELIVERY = ['pending', 'sent', 'failed', 'skipped'] as const;
const COLUMNS = [
  'id',
  'user_id',
  'title',
  'message',
  'source_kind',
  'source_id',
  'created_at',
  'read_at',
  'telegram_status',
  'ws_status',
  'attempts',
  'next_attempt_at',
  'last_error',
] as const;

const inList = (column: string, values: readonly string[]) =>
  sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  const t = portableTypes(db);
  await db.schema
    .createTable('notifications_next')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('title', t.text, (c) => c.notNull())
    .addColumn('message', t.text, (c) => c.notNull())
    .addColumn('source_kind', t.text, (c) => c.notNull().check(inList('source_kind', SOURCE_KINDS)))
    .addColumn('source_id', t.text)
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('read_at', t.ts)
    .addColumn('telegram_status', t.text, (c) =>
      c.notNull().defaultTo('skipped').check(inList('telegram_status', DELIVERY)),
    )
    .addColumn('ws_status', t.text, (c) =>
      c.notNull().defaultTo('skipped').check(inList('ws_status', DELIVERY)),
    )
    .addColumn('attempts', t.int, (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', t.ts)
    .addColumn('last_error', t.text)
    .execute();
  await db
    .insertInto('notifications_next')
    .columns([...COLUMNS])
    .expression(db.selectFrom('notifications').select([...COLUMNS]))
    .execute();
  await db.schema.dropTable('notifications').execute();
  await db.schema.alterTable('notifications_next').renameTo('notifications').execute();
  await db.schema
    .createIndex('notifications_user')
    .on('notifications')
    .columns(['user_id', 'created_at'])
    .execute();
  await db.schema.createIndex('notifications_due').on('notifications').column('next_attempt_at').execute();
}

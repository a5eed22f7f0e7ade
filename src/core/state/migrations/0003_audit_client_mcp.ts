import { type Kysely, sql } from 'kysely';
import { portableTypes } from './column-types.js';

/**
 * `audit_log.client` gains `mcp` (04 §8: a `/mcp` tool call, 14 §5). A CHECK constraint cannot be
 * altered in place in SQLite, so the table is rebuilt with the wider list and its rows copied.
 */

const CLIENTS = ['web', 'cli', 'service', 'api', 'mcp'] as const;
const COLUMNS = [
  'id',
  'timestamp',
  'user_id',
  'action',
  'resource',
  'params',
  'result',
  'duration_ms',
  'status_code',
  'request_id',
  'ip',
  'client',
] as const;

const inList = (column: string, values: readonly string[]) =>
  sql`${sql.ref(column)} in (${sql.join(values.map((v) => sql.lit(v)))})`;

// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  const t = portableTypes(db);
  await db.schema
    .createTable('audit_log_next')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('timestamp', t.ts, (c) => c.notNull())
    .addColumn('user_id', t.id)
    .addColumn('action', t.text, (c) => c.notNull())
    .addColumn('resource', t.text)
    .addColumn('params', t.json)
    .addColumn('result', t.text, (c) => c.notNull().check(inList('result', ['ok', 'denied', 'error'])))
    .addColumn('duration_ms', t.int)
    .addColumn('status_code', t.int)
    .addColumn('request_id', t.text)
    .addColumn('ip', t.text)
    .addColumn('client', t.text, (c) => c.check(sql`client is null or ${inList('client', CLIENTS)}`))
    .execute();
  await db
    .insertInto('audit_log_next')
    .columns([...COLUMNS])
    .expression(db.selectFrom('audit_log').select([...COLUMNS]))
    .execute();
  await db.schema.dropTable('audit_log').execute();
  await db.schema.alterTable('audit_log_next').renameTo('audit_log').execute();
  await db.schema.createIndex('audit_log_timestamp').on('audit_log').column('timestamp').execute();
  await db.schema.createIndex('audit_log_user').on('audit_log').columns(['user_id', 'timestamp']).execute();
  await db.schema.createIndex('audit_log_action').on('audit_log').columns(['action', 'timestamp']).execute();
}

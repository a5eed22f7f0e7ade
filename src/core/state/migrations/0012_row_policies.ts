import type { Kysely } from 'kysely';
import { portableTypes } from './column-types.js';

/**
 * Row and column policies (12 §1, §3): user attributes, policies per registered table, and the
 * record of materialised slices. Policies go with their table (CASCADE on unregister); slice files
 * are deleted by maintenance, so their rows carry no foreign key.
 */
// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  const t = portableTypes(db);
  await db.schema
    .createTable('user_attributes')
    .addColumn('user_id', t.id, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key', t.text, (c) => c.notNull())
    .addColumn('values', t.json, (c) => c.notNull().defaultTo('[]'))
    .addPrimaryKeyConstraint('user_attributes_pk', ['user_id', 'key'])
    .execute();
  await db.schema
    .createTable('row_policies')
    .addColumn('id', t.id, (c) => c.primaryKey())
    .addColumn('table_id', t.id, (c) => c.notNull().references('table_registry.id').onDelete('cascade'))
    .addColumn('name', t.text, (c) => c.notNull())
    .addColumn('name_key', t.text, (c) => c.notNull())
    .addColumn('description', t.text, (c) => c.notNull().defaultTo(''))
    .addColumn('applies_to', t.json, (c) => c.notNull())
    .addColumn('row_filter', t.text)
    .addColumn('masked_columns', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('enabled', t.bool, (c) => c.notNull().defaultTo(true))
    .addColumn('error', t.text)
    .addColumn('created_by', t.id)
    .addColumn('created_at', t.ts, (c) => c.notNull())
    .addColumn('updated_by', t.id)
    .addColumn('updated_at', t.ts, (c) => c.notNull())
    .addUniqueConstraint('row_policies_table_name', ['table_id', 'name_key'])
    .execute();
  await db.schema
    .createTable('policy_slices')
    .addColumn('slice_key', t.text, (c) => c.primaryKey())
    .addColumn('table_id', t.id, (c) => c.notNull())
    .addColumn('table_hash', t.text, (c) => c.notNull())
    .addColumn('binding_hash', t.text, (c) => c.notNull())
    .addColumn('rows', t.int, (c) => c.notNull())
    .addColumn('size_bytes', t.int, (c) => c.notNull())
    .addColumn('sha256', t.text, (c) => c.notNull())
    .addColumn('built_at', t.ts, (c) => c.notNull())
    .addColumn('last_used_at', t.ts, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('policy_slices_table').on('policy_slices').column('table_id').execute();
}

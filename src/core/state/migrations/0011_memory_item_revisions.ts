import type { Kysely } from 'kysely';
import { portableTypes } from './column-types.js';

/**
 * Every edit of a memory item keeps the fields it replaced (08 §4.3 items and governance), so a
 * km_admin or the item's creator can read what an item said before.
 */
// biome-ignore lint/suspicious/noExplicitAny: a migration sees the schema of its own time, not today's types
export async function up(db: Kysely<any>): Promise<void> {
  const t = portableTypes(db);
  await db.schema
    .createTable('memory_item_revisions')
    .addColumn('item_id', t.id, (c) => c.notNull().references('knowledge_items.id').onDelete('cascade'))
    .addColumn('revision', t.int, (c) => c.notNull())
    .addColumn('title', t.text, (c) => c.notNull())
    .addColumn('content', t.text)
    .addColumn('category', t.text)
    .addColumn('tags', t.json, (c) => c.notNull().defaultTo('[]'))
    .addColumn('edited_by', t.id)
    .addColumn('edited_at', t.ts, (c) => c.notNull())
    .addPrimaryKeyConstraint('memory_item_revisions_pk', ['item_id', 'revision'])
    .execute();
}

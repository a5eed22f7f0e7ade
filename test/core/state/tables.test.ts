import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateDb, type StateDb, sqliteHandle } from '../../../src/core/state/db.js';
import { migrateToLatest } from '../../../src/core/state/migrate.js';
import { EPHEMERAL_TABLES, STATE_TABLES } from '../../../src/core/state/tables.js';
import { tempDir } from '../../support/extracts.js';

/** The list backup and restore copy: every table a migration creates, parents first. */
describe('STATE_TABLES', () => {
  let db: StateDb;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const dir = await tempDir('agnes-tables-');
    cleanup = dir.cleanup;
    db = openStateDb(join(dir.path, 'data'));
    await migrateToLatest(db);
  });
  afterAll(async () => {
    await db.destroy();
    await cleanup();
  });

  it('lists exactly the tables of a migrated store, Kysely ledger aside, each once as state or ephemeral', async () => {
    const tables = (await db.introspection.getTables()).filter((t) => !t.isView).map((t) => t.name);
    expect([...STATE_TABLES, ...EPHEMERAL_TABLES].sort()).toEqual(tables.sort());
  });

  it('puts every table after the tables its foreign keys reference', () => {
    const sqlite = sqliteHandle(db)!;
    const misplaced: string[] = [];
    for (const [i, table] of STATE_TABLES.entries()) {
      const parents = sqlite.prepare(`PRAGMA foreign_key_list(${table})`).all() as { table: string }[];
      for (const { table: parent } of parents)
        if (parent !== table && STATE_TABLES.indexOf(parent as (typeof STATE_TABLES)[number]) > i)
          misplaced.push(`${table} before ${parent}`);
    }
    expect(misplaced).toEqual([]);
  });
});

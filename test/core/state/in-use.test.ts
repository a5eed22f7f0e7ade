import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDb } from '../../../src/core/state/db.js';
import { stateStoreInUse } from '../../../src/core/state/in-use.js';
import { migrateToLatest } from '../../../src/core/state/migrate.js';
import { tempDir } from '../../support/extracts.js';
import { openTestDatabase, skipWithoutPostgres, TEST_DIALECT } from './repositories/fresh-store.js';

/** How `agnes restore` tells that a server has the target's state store open. */
describe(`stateStoreInUse on ${TEST_DIALECT}`, () => {
  let dataDir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async (context) => {
    skipWithoutPostgres(context);
    const dir = await tempDir('agnes-in-use-');
    dataDir = join(dir.path, 'data');
    cleanup = dir.cleanup;
  });
  afterEach(async () => cleanup?.());

  it('is false without a store, true while a connection has it open, false once it is closed', async () => {
    if (TEST_DIALECT === 'postgres') {
      const database = await openTestDatabase({ migrated: true });
      const postgres = database.postgres!;
      try {
        expect(await stateStoreInUse(dataDir, postgres)).toBe(false);
        const other = openStateDb(dataDir, postgres);
        await other.selectFrom('users').select('id').execute();
        expect(await stateStoreInUse(dataDir, postgres)).toBe(true);
        await other.destroy();
        // The server process ends a session just after the client closes it.
        await expect.poll(() => stateStoreInUse(dataDir, postgres)).toBe(false);
      } finally {
        await database.remove();
      }
      return;
    }
    expect(await stateStoreInUse(dataDir)).toBe(false);
    const db = openStateDb(dataDir);
    await migrateToLatest(db);
    try {
      expect(await stateStoreInUse(dataDir)).toBe(true);
    } finally {
      await db.destroy();
    }
    expect(await stateStoreInUse(dataDir)).toBe(false);
    const reopened = openStateDb(dataDir);
    await reopened.selectFrom('users').select('id').execute();
    expect(await stateStoreInUse(dataDir)).toBe(true);
    await reopened.destroy();
  });
});

import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDb } from '../../../src/core/state/db.js';
import { stateStoreInUse } from '../../../src/core/state/in-use.js';
import { migrateToLatest } from '../../../src/core/state/migrate.js';
import { tempDir } from '../../support/extracts.js';

/** How `agnes restore` tells that a server has the target's state store open. */
describe('stateStoreInUse', () => {
  let dataDir: string;
  let cleanup: () => Promise<void>;

  beforeEach(async () => {
    const dir = await tempDir('agnes-in-use-');
    dataDir = join(dir.path, 'data');
    cleanup = dir.cleanup;
  });
  afterEach(async () => cleanup());

  it('is false without a store, true while a connection has it open, false once it is closed', async () => {
    expect(stateStoreInUse(dataDir)).toBe(false);
    const db = openStateDb(dataDir);
    await migrateToLatest(db);
    try {
      expect(stateStoreInUse(dataDir)).toBe(true);
    } finally {
      await db.destroy();
    }
    expect(stateStoreInUse(dataDir)).toBe(false);
    const reopened = openStateDb(dataDir);
    await reopened.selectFrom('users').select('id').execute();
    expect(stateStoreInUse(dataDir)).toBe(true);
    await reopened.destroy();
  });
});

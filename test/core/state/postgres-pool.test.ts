import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDb } from '../../../src/core/state/db.js';
import { migrateToLatest } from '../../../src/core/state/migrate.js';
import { StateStoreConnectionError } from '../../../src/core/state/postgres-pool.js';
import { freePort } from '../../support/ports.js';
import {
  openTestDatabase,
  skipWithoutPostgres,
  TEST_DIALECT,
  type TestDatabase,
} from './repositories/fresh-store.js';

describe('the PostgreSQL state store', () => {
  it('names the host, port and database of a server it cannot reach, never the password', async () => {
    const port = await freePort();
    const db = openStateDb('', {
      url: `postgres://agnes:pg-secret-XYZ@127.0.0.1:${port}/agnes`,
      poolSize: 1,
      connectTimeoutSeconds: 2,
    });
    try {
      const error = await migrateToLatest(db).then(
        () => null,
        (caught: unknown) => caught,
      );

      expect(error).toBeInstanceOf(StateStoreConnectionError);
      expect((error as Error).message).toMatch(
        new RegExp(`^cannot connect to the PostgreSQL state store at 127\\.0\\.0\\.1:${port}/agnes: .+`),
      );
      expect((error as Error).message).not.toContain('pg-secret-XYZ');
    } finally {
      await db.destroy();
    }
  });

  // What the pool's type parsers do, seen on a real server: only the postgres project has one.
  if (TEST_DIALECT === 'postgres')
    describe('values', () => {
      let database: TestDatabase;
      beforeEach(async (context) => {
        skipWithoutPostgres(context);
        database = await openTestDatabase({ migrated: false });
      });
      afterEach(async () => {
        await database?.remove();
      });

      it('come back in the shapes SQLite rows have: ISO Z timestamps, numbers, booleans, parsed JSON', async () => {
        const { rows } = await sql<Record<string, unknown>>`SELECT
            '2025-03-04 05:06:07.891234+02'::timestamptz AS at,
            '2025-03-04 05:06:07'::timestamptz AS without_offset,
            9007199254740991::bigint AS big,
            (SELECT count(*) FROM (VALUES (1), (2)) AS v(n)) AS counted,
            sum(x) AS summed,
            true AS flag,
            '{"a": [1, "b"]}'::jsonb AS doc
          FROM (VALUES (1::bigint), (2::bigint)) AS t(x)`.execute(database.db);

        expect(rows).toEqual([
          {
            at: '2025-03-04T03:06:07.891Z',
            without_offset: '2025-03-04T05:06:07.000Z',
            big: 9007199254740991,
            counted: 2,
            summed: 3,
            flag: true,
            doc: { a: [1, 'b'] },
          },
        ]);
      });
    });
});

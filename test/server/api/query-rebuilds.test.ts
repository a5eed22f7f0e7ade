import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { publishShop } from './sync-fixtures.js';

/**
 * R6 (10 §2), scaled to test time: several clients query without pause while full and source
 * rebuilds publish new generations in a loop. No query fails, every answer is the one the data
 * gives, and sandboxes of old generations are closed as their queries end.
 */

const CACHE_SIZE = 4;
const REBUILDS = 6;

describe('queries during rebuilds (R6)', () => {
  let server: TestServer;
  let admin: TestUser;
  let readers: TestUser[];

  beforeAll(async () => {
    server = await withServer({
      config: {
        auth: { rate_limits: { query: { max: 100_000, window_seconds: 60 } } },
        query: { sandbox_cache_size: CACHE_SIZE },
      },
    });
    await publishShop(server.ctx, server.dataDir);
    admin = await createUser(server.ctx, 'admin');
    readers = await Promise.all([1, 2, 3].map(() => createUser(server.ctx, 'analyst')));
    for (const reader of readers)
      await server.ctx.repos.permissions.grantUser(reader.id, {
        dataset: 'orders',
        access: 'read',
        granted_by: admin.id,
      });
  });
  afterAll(async () => server.close());

  it('answers every query from a consistent generation while rebuilds run', async () => {
    const startGeneration = await server.ctx.orchestrator.currentGeneration();
    let rebuilding = true;
    const failures: string[] = [];
    let answered = 0;
    let maxOpen = 0;

    const client = async (user: TestUser, sql: string, expected: unknown[][]) => {
      // Each client runs at least a few queries, and keeps going until the rebuilds are done.
      for (let i = 0; rebuilding || i < 5; i++) {
        const response = await call(server, 'POST', '/api/query', { auth: user.auth, body: { sql } });
        answered += 1;
        maxOpen = Math.max(maxOpen, server.ctx.query.openSandboxes);
        if (response.status !== 200) failures.push(`${response.status} ${response.text}`);
        else if (JSON.stringify(response.body.rows) !== JSON.stringify(expected))
          failures.push(`unexpected rows ${JSON.stringify(response.body.rows)}`);
      }
    };

    const rebuilds = (async () => {
      try {
        for (let i = 0; i < REBUILDS; i++) {
          const report =
            i % 2 === 0
              ? await server.ctx.orchestrator.rebuild()
              : await server.ctx.orchestrator.rebuildSource('shop');
          if (report.sources.shop?.status !== 'ok') failures.push(`rebuild ${i}: ${JSON.stringify(report)}`);
        }
      } finally {
        rebuilding = false;
      }
    })();

    const both = 'SELECT (SELECT count(*) FROM orders) AS o, (SELECT count(*) FROM holidays) AS h';
    await Promise.all([
      rebuilds,
      ...readers.map((reader) => client(reader, both, [[50, 12]])),
      client(admin, 'SELECT count(*) AS n, sum(id) AS s FROM scratch', [[2, '1']]),
    ]);

    expect(failures).toEqual([]);
    expect(await server.ctx.orchestrator.currentGeneration()).toBe(startGeneration + REBUILDS);
    expect(answered).toBeGreaterThanOrEqual(20);
    expect(maxOpen).toBeLessThanOrEqual(CACHE_SIZE);
    // Old generations' sandboxes were retired and closed: only the two grant sets remain.
    expect(server.ctx.query.openSandboxes).toBeLessThanOrEqual(2);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKeboola } from '../fakes/keboola.js';
import { cliHome, loginWithToken, runDa } from '../support/cli.js';
import { childPids, until } from '../support/processes.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

/**
 * Issue 12 end to end: `data_sources.keboola` pointing at the fake Storage API, discovery through
 * the admin API, a sync job running the real `agnes extract --stdin-config` child (built with
 * `npm run build`), and the table queryable through the guard. The token reaches the child only
 * through its environment.
 */
describe('keboola source through the app', () => {
  let fake: FakeKeboola;
  let server: TestServer;
  let admin: TestUser;

  beforeAll(async () => {
    fake = await FakeKeboola.start();
    fake.addTable({
      bucket: 'in.c-shop',
      name: 'order-lines',
      columns: ['id', 'sku', 'qty'],
      primaryKey: ['id'],
      types: { id: 'INTEGER', qty: 'INTEGER' },
    });
    fake.upsert('in.c-shop.order-lines', [
      ['1', 'A-1', '2'],
      ['2', 'B-7', '5'],
      ['3', 'A-1', '1'],
    ]);
    server = await withServer({
      config: { data_sources: { keboola: { stack_url: fake.url } } },
      env: { KEBOOLA_STORAGE_TOKEN: fake.token },
      startServices: true,
    });
    admin = await createUser(server.ctx, 'admin');
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
  });

  it('is discovered, synced in the extractor child and queried through /api/query', async () => {
    expect(server.ctx.sources.map((s) => s.name)).toContain('keboola');
    const discovered = await call(server, 'GET', '/api/admin/discover-tables?source=keboola', {
      auth: admin.auth,
    });
    expect(discovered.status).toBe(200);
    const [offered] = discovered.body.tables;
    expect(offered).toMatchObject({
      name: 'order_lines',
      bucket: 'in.c-shop',
      source_table: 'order-lines',
      rows: 3,
      primary_key: ['id'],
    });

    const registered = await call(server, 'POST', '/api/admin/register-table', {
      auth: admin.auth,
      body: { name: 'order_lines', source: 'keboola', bucket: 'in.c-shop', source_table: 'order-lines' },
    });
    expect(registered.status).toBe(201);
    const trigger = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { source: 'keboola' },
    });
    expect(trigger.status).toBe(202);
    const job = await server.ctx.jobs.waitFor(trigger.body.jobs[0].id);
    expect(job.status).toBe('succeeded');

    const query = await call(server, 'POST', '/api/query', {
      auth: admin.auth,
      body: { sql: 'SELECT sku, CAST(sum(qty) AS INTEGER) AS n FROM order_lines GROUP BY sku ORDER BY sku' },
    });
    expect(query.status).toBe(200);
    expect(query.body.rows).toEqual([
      ['A-1', 3],
      ['B-7', 5],
    ]);
    expect(JSON.stringify([discovered.body, trigger.body, job, query.body])).not.toContain(fake.token);
  });

  const totals = async () =>
    (
      await call(server, 'POST', '/api/query', {
        auth: admin.auth,
        body: {
          sql: 'SELECT sku, CAST(sum(qty) AS INTEGER) AS n FROM order_lines GROUP BY sku ORDER BY sku',
        },
      })
    ).body.rows;

  it('an extract child SIGKILLed mid-download leaves the previous data served; the next sync recovers', async () => {
    fake.upsert('in.c-shop.order-lines', [['4', 'C-9', '7']]);
    fake.inject({ match: /^GET \/_files\/\d+\/slice-/, delayMs: 60_000, times: Number.POSITIVE_INFINITY });
    const trigger = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { source: 'keboola' },
    });
    expect(trigger.status).toBe(202);
    await until(() => Promise.resolve(fake.count(/^GET \/_files\/\d+\/slice-/) > 0), 'a slice download');
    const [pid] = await childPids(['extract', '--stdin-config']);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGKILL');
    const killed = await server.ctx.jobs.waitFor(trigger.body.jobs[0].id);
    expect(killed.status).toBe('failed');
    expect(await totals()).toEqual([
      ['A-1', 3],
      ['B-7', 5],
    ]);

    fake.faults.length = 0;
    const again = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { source: 'keboola' },
    });
    expect((await server.ctx.jobs.waitFor(again.body.jobs[0].id)).status).toBe('succeeded');
    expect(await totals()).toEqual([
      ['A-1', 3],
      ['B-7', 5],
      ['C-9', 7],
    ]);
  });

  it('is synced to a granted analyst by da sync and queried locally', async () => {
    const analyst = await createUser(server.ctx, 'analyst');
    await server.ctx.repos.permissions.grantUser(analyst.id, {
      dataset: 'order_lines',
      access: 'read',
      granted_by: admin.id,
    });
    const home = await cliHome();
    try {
      await loginWithToken(home, server.url, analyst);
      const sync = await runDa(['sync', '--json'], { env: home.env });
      expect(sync.code).toBe(0);
      expect(JSON.parse(sync.stdout).downloaded).toEqual([
        expect.objectContaining({ table: 'order_lines', files: 1 }),
      ]);
      const local = await runDa(
        [
          'query',
          '--format',
          'json',
          'SELECT count(*) AS n, CAST(sum(qty) AS INTEGER) AS q FROM order_lines',
        ],
        {
          env: home.env,
        },
      );
      expect(JSON.parse(local.stdout)).toEqual([{ n: 4, q: 15 }]);
    } finally {
      await home.cleanup();
    }
  });
});

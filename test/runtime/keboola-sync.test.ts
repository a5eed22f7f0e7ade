import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKeboola } from '../fakes/keboola.js';
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
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck } from '../../src/core/duckdb/engine.js';
import { FakeBigQuery } from '../fakes/bigquery.js';
import { type CliHome, cliHome, loginWithToken, runDa } from '../support/cli.js';
import { tempDir } from '../support/extracts.js';
import { attachDuckDbFile, REMOTE_CATALOG_ENV } from '../support/remote-catalog.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

/**
 * Issue 12 end to end for the remote-only BigQuery source: `data_sources.bigquery` pointing at the
 * fake REST API and token endpoint, discovery through the admin API, a sync job running the real
 * extractor child, `rebuildSource` attaching the remote catalog, the table queried through the
 * guard's sandbox, and `da sync` listing it as remote without downloading anything. The remote
 * catalog is a DuckDB file with BigQuery's dataset and table names (07 §0 seam), attached by both
 * the extractor child and the server.
 */
describe('bigquery source through the app', () => {
  let fake: FakeBigQuery;
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;
  let home: CliHome;
  let root: { path: string; cleanup: () => Promise<void> };

  beforeAll(async () => {
    fake = await FakeBigQuery.start();
    root = await tempDir('agnes-bq-e2e-');
    fake.addTable('sales', 'orders', {
      fields: [
        { name: 'id', type: 'INTEGER', mode: 'REQUIRED' },
        { name: 'region', type: 'STRING' },
        { name: 'amount', type: 'NUMERIC' },
      ],
      numRows: 3,
      numBytes: 2048,
      description: 'Orders placed in the shop',
    });
    const catalog = join(root.path, 'bq.duckdb');
    const duck = await openDuck(catalog);
    await duck.conn.run(`CREATE SCHEMA sales;
      CREATE TABLE sales.orders AS
        SELECT * FROM (VALUES (1, 'eu', 10.5), (2, 'us', 20.0), (3, 'eu', 4.5)) t(id, region, amount)`);
    duck.close();
    const keyFile = await fake.writeKeyFile(root.path);
    server = await withServer({
      config: {
        data_sources: {
          bigquery: { project: fake.project, credentials_file: keyFile, api_endpoint: fake.url },
        },
      },
      env: { [REMOTE_CATALOG_ENV]: catalog },
      attachRemote: attachDuckDbFile(catalog),
      extractor: {
        command: process.execPath,
        args: ['--import', 'tsx', join(import.meta.dirname, '..', 'support', 'extract-child.ts')],
      },
      startServices: true,
    });
    admin = await createUser(server.ctx, 'admin');
    analyst = await createUser(server.ctx, 'analyst');
    home = await cliHome();
  });
  afterAll(async () => {
    await server?.close();
    await fake?.close();
    await home?.cleanup();
    await root?.cleanup();
  });

  it('is discovered, registered as remote, synced in the extractor child and queried through /api/query', async () => {
    const discovered = await call(server, 'GET', '/api/admin/discover-tables?source=bigquery', {
      auth: admin.auth,
    });
    expect(discovered.status).toBe(200);
    expect(discovered.body.tables).toEqual([
      expect.objectContaining({ name: 'orders', bucket: 'sales', source_table: 'orders', rows: 3 }),
    ]);

    // No query_mode given: BigQuery supports only remote, so that is what is registered.
    const registered = await call(server, 'POST', '/api/admin/register-table', {
      auth: admin.auth,
      body: { name: 'orders', source: 'bigquery', bucket: 'sales', source_table: 'orders' },
    });
    expect(registered.status).toBe(201);
    expect((await server.ctx.repos.registry.get('orders'))?.query_mode).toBe('remote');

    const trigger = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { source: 'bigquery' },
    });
    expect(trigger.status).toBe(202);
    const job = await server.ctx.jobs.waitFor(trigger.body.jobs[0].id);
    expect(job.status).toBe('succeeded');
    expect(fake.count(/\/token$/)).toBeGreaterThan(0);

    const query = await call(server, 'POST', '/api/query', {
      auth: admin.auth,
      body: {
        sql: 'SELECT region, CAST(sum(amount) AS DOUBLE) AS total FROM orders GROUP BY region ORDER BY region',
      },
    });
    expect(query.status).toBe(200);
    expect(query.body.rows).toEqual([
      ['eu', 15],
      ['us', 20],
    ]);
  });

  it('is listed to a granted analyst as remote by da sync, never downloaded, and answers da query --remote', async () => {
    await server.ctx.repos.permissions.grantUser(analyst.id, {
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
    await loginWithToken(home, server.url, analyst);
    const sync = await runDa(['sync', '--json'], { env: home.env });
    expect(sync.code).toBe(0);
    const report = JSON.parse(sync.stdout);
    expect(report.remote).toEqual(['orders']);
    expect(report.downloaded).toEqual([]);
    expect(report.bytes_downloaded).toBe(0);

    const remote = await runDa(
      ['query', '--remote', '--format', 'json', 'SELECT count(*) AS n FROM orders'],
      {
        env: home.env,
      },
    );
    expect(remote.stderr).toBe('');
    expect(JSON.parse(remote.stdout)).toEqual([{ n: 3 }]);
  });
});

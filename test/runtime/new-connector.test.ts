import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeConnector } from '../support/connectors.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

/**
 * Issue 11: a new connector is one folder and one entry in a list. The test-only `acme` connector
 * (test/support/connectors.ts) is listed for the server and its extract child, configured under
 * `data_sources.acme`, and then goes through the product like a built-in one: discovery, the
 * registry, a sync job in a child process, the orchestrator, and the guarded query API.
 */
describe('a connector added by listing it', () => {
  let server: TestServer;
  let admin: TestUser;

  beforeAll(async () => {
    server = await withServer({
      connectors: [fakeConnector({ type: 'acme' })],
      config: { data_sources: { acme: { enabled: true, rows: 6 } } },
      extractor: {
        command: process.execPath,
        args: ['--import', 'tsx', join(import.meta.dirname, '..', 'support', 'extract-child.ts')],
      },
      startServices: true,
    });
    admin = await createUser(server.ctx, 'admin');
  });
  afterAll(async () => server.close());

  it('is discovered, registered, synced in a child process and queried through the guard', async () => {
    expect(server.ctx.sources.map((s) => s.name)).toEqual(['acme']);
    const discovered = await call(server, 'GET', '/api/admin/discover-tables?source=acme', {
      auth: admin.auth,
    });
    expect(discovered.status).toBe(200);
    expect(discovered.body.tables.map((t: { name: string }) => t.name).sort()).toEqual([
      'accounts',
      'events',
      'invoices',
    ]);

    const registered = await call(server, 'POST', '/api/admin/register-table', {
      auth: admin.auth,
      body: { name: 'accounts', source: 'acme', primary_key: ['id'] },
    });
    expect(registered.status).toBe(201);
    const trigger = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { source: 'acme' },
    });
    expect(trigger.status).toBe(202);
    const job = await server.ctx.jobs.waitFor(trigger.body.jobs[0].id);
    expect(job.status).toBe('succeeded');

    const query = await call(server, 'POST', '/api/query', {
      auth: admin.auth,
      body: { sql: 'SELECT count(*) AS n, max(label) AS last FROM accounts' },
    });
    expect(query.status).toBe(200);
    expect(query.body.rows).toEqual([[6, 'row 5']]);
  });

  it('refuses registering tables of a type no listed connector has', async () => {
    const refused = await call(server, 'POST', '/api/admin/register-table', {
      auth: admin.auth,
      body: { name: 'issues', source: 'tracker', source_type: 'salesforce' },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.errors).toEqual([
      { path: '/body/source_type', message: 'is not a known connector type' },
    ]);
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/jobs/logger.js';
import { profileTables } from '../../../src/core/jobs/profile-tables.js';
import { makeExtract } from '../../support/extracts.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

/** Table registry administration (03 §12): discover, register, list, update, unregister, rebuild. */

describe('table registry (/api/admin)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  const admin$ = (method: string, path: string, body?: unknown) =>
    call(server, method, path, { auth: admin.auth, body });

  beforeAll(async () => {
    server = await withServer({
      config: { auth: { rate_limits: { default: { max: 100_000, window_seconds: 60 } } } },
    });
    await makeExtract(join(server.dataDir, 'extracts'), 'shop', [
      { name: 'orders', rows: 20 },
      { name: 'customers', rows: 5 },
      { name: 'events', rows: 9, shards: 3 },
    ]);
    await server.ctx.orchestrator.rebuild();
    [admin, analyst] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
    ]);
  });
  afterAll(async () => server.close());

  it('discovers the tables a published source offers, marking registered ones', async () => {
    const before = await admin$('GET', '/api/admin/discover-tables');
    expect(before.status).toBe(200);
    expect(before.body.sources).toEqual([{ name: 'shop', status: 'ok' }]);
    const names = before.body.tables.map((t: { name: string }) => t.name).sort();
    expect(names).toEqual(['customers', 'events', 'orders']);
    const orders = before.body.tables.find((t: { name: string }) => t.name === 'orders');
    expect(orders).toMatchObject({
      source: 'shop',
      suggested_id: 'orders',
      registered: false,
      rows: 20,
      columns: expect.arrayContaining([expect.objectContaining({ name: expect.any(String) })]),
    });
    expect(before.body.count).toBe(3);
    expect(before.text).not.toContain(server.dataDir);

    await admin$('POST', '/api/admin/register-table', {
      name: 'orders',
      source: 'shop',
      source_type: 'local',
    });
    const after = await admin$('GET', '/api/admin/discover-tables?source=shop');
    expect(after.body.tables.find((t: { name: string }) => t.name === 'orders').registered).toBe(true);
    expect((await admin$('GET', '/api/admin/discover-tables?source=nowhere')).status).toBe(404);
    expect((await call(server, 'GET', '/api/admin/discover-tables', { auth: analyst.auth })).status).toBe(
      403,
    );
  });

  it('registers with an id derived from the name, 409 on a duplicate, 422 on invalid input', async () => {
    const created = await admin$('POST', '/api/admin/register-table', {
      name: '2024 Customers (EU)',
      source: 'shop',
      source_type: 'local',
      source_table: 'customers',
      primary_key: ['id'],
      sync_strategy: 'incremental',
      is_public: true,
      folder: 'crm',
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: 't_2024_customers_eu',
      name: '2024 Customers (EU)',
      status: 'registered',
    });
    const row = (await admin$('GET', '/api/admin/registry?search=customers')).body.tables[0];
    expect(row).toMatchObject({
      id: 't_2024_customers_eu',
      primary_key: ['id'],
      is_public: true,
      folder: 'crm',
    });

    const duplicate = await admin$('POST', '/api/admin/register-table', {
      id: 't_2024_customers_eu',
      name: 'Again',
      source: 'shop',
      source_type: 'local',
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('already_registered');

    const invalid: Record<string, unknown>[] = [
      { name: 'x', id: '../etc', source: 'shop', source_type: 'local' },
      { name: 'x', id: 'Orders', source: 'shop', source_type: 'local' },
      { name: 'x', id: 'sal*', source: 'shop', source_type: 'local' },
      { name: 'bad;name', source: 'shop', source_type: 'local' },
      { name: "o'rders", source: 'shop', source_type: 'local' },
      { name: 'a/b', source: 'shop', source_type: 'local' },
      { name: 'ok', source: 'shop; DROP', source_type: 'local' },
      { name: 'ok', source: 'shop', source_type: 'nosuchconnector' },
      { name: 'ok2', source: 'shop', source_type: 'local', sync_strategy: 'incremental' },
      { name: 'ok3', source: 'shop', source_type: 'local', sync_strategy: 'partitioned' },
      { name: 'ok4', source: 'shop', source_type: 'local', query_mode: 'remote' },
      { name: 'ok5', source: 'shop', source_type: 'local', sync_schedule: 'whenever' },
      { name: 'ok6', source: 'shop', source_type: 'local', is_admin: true },
    ];
    for (const body of invalid) {
      const response = await admin$('POST', '/api/admin/register-table', body);
      expect(response.status, JSON.stringify(body)).toBe(422);
    }
    const ids = (await admin$('GET', '/api/admin/registry')).body.tables.map((t: { id: string }) => t.id);
    expect(ids.sort()).toEqual(['orders', 't_2024_customers_eu']);
  });

  it('updates any field but the id, keeping registered_at; unknown ids are 404', async () => {
    const before = (await admin$('GET', '/api/admin/registry?search=orders')).body.tables[0];
    const updated = await admin$('PUT', '/api/admin/registry/orders', {
      description: 'All orders',
      is_discoverable: false,
      primary_key: 'id',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({
      id: 'orders',
      updated: ['description', 'is_discoverable', 'primary_key'],
    });
    const after = (await admin$('GET', '/api/admin/registry?search=orders')).body.tables[0];
    expect(after).toMatchObject({ description: 'All orders', is_discoverable: false, primary_key: ['id'] });
    expect(after.registered_at).toBe(before.registered_at);
    expect(Date.parse(after.updated_at)).toBeGreaterThanOrEqual(Date.parse(before.updated_at));

    expect((await admin$('PUT', '/api/admin/registry/orders', { id: 'renamed' })).status).toBe(422);
    expect((await admin$('PUT', '/api/admin/registry/nothing_here', { description: 'x' })).status).toBe(404);
  });

  it('unregisters: grants on exactly that id, pending requests and the profile go; data stays', async () => {
    await admin$('POST', '/api/admin/register-table', {
      name: 'events',
      source: 'shop',
      source_type: 'local',
    });
    await server.ctx.repos.permissions.grantUser(analyst.id, {
      dataset: 'events',
      access: 'read',
      granted_by: admin.id,
    });
    await server.ctx.repos.permissions.grantUser(analyst.id, {
      dataset: 'default.*',
      access: 'read',
      granted_by: admin.id,
    });
    const report = await profileTables(
      {
        repos: server.ctx.repos,
        dataDir: server.dataDir,
        options: server.ctx.config.profiler,
        log: silentLogger,
      },
      ['events'],
      { force: true },
    );
    expect(report.profiled).toEqual(['events']);
    const other = await createUser(server.ctx, 'analyst');
    const requested = await call(server, 'POST', '/api/access-requests', {
      auth: other.auth,
      body: { table_id: 'events' },
    });
    expect(requested.status).toBe(201);

    const deleted = await call(server, 'DELETE', '/api/admin/registry/events', { auth: admin.auth });
    expect(deleted.status).toBe(204);
    const grants = (await server.ctx.repos.permissions.grantsForUser(analyst.id)).map((g) => g.dataset);
    expect(grants).toEqual(['default.*']);
    expect(await server.ctx.repos.profiles.get('events')).toBeUndefined();
    const pending = await server.ctx.repos.accessRequests.list({ user_id: other.id, status: 'pending' });
    expect(pending.total).toBe(0);
    // The data and the view stay, now readable by admins only.
    expect((await server.ctx.repos.syncState.getState('events'))?.status).toBe('ok');
    expect(
      (await call(server, 'GET', '/api/data/events/files/part-0.parquet', { auth: admin.auth })).status,
    ).toBe(200);
    expect((await call(server, 'DELETE', '/api/admin/registry/events', { auth: admin.auth })).status).toBe(
      404,
    );
  });

  it('rebuilds synchronously and returns the report; invalid names 400, unknown sources 404', async () => {
    const full = await admin$('POST', '/api/admin/rebuild');
    expect(full.status).toBe(200);
    expect(full.body).toMatchObject({ mode: 'full', source: null });
    expect(full.body.sources.shop).toMatchObject({ status: 'ok' });
    const one = await admin$('POST', '/api/admin/rebuild?source=shop');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ mode: 'source', source: 'shop' });
    expect(one.body.generation).toBeGreaterThan(full.body.generation);
    expect((await admin$('POST', '/api/admin/rebuild?source=no_such_source')).status).toBe(404);
    const invalid = await admin$('POST', '/api/admin/rebuild?source=..%2Fshop');
    expect(invalid.status).toBe(400);
    expect(invalid.body.code).toBe('invalid_name');
    expect((await call(server, 'POST', '/api/admin/rebuild', { auth: analyst.auth })).status).toBe(403);

    const sources = await admin$('GET', '/api/admin/sources');
    expect(sources.body.sources).toContainEqual(
      expect.objectContaining({
        name: 'shop',
        configured: false,
        last_rebuild: expect.objectContaining({ status: 'ok' }),
      }),
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { registerTable } from './fixtures.js';

describe('settings (/api/settings) and sync settings (/api/sync/settings, /api/sync/table-subscriptions)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  beforeAll(async () => {
    server = await withServer();
    [admin, analyst] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
    ]);
    await registerTable(server.ctx, 'orders', { bucket: 'sales' });
    await registerTable(server.ctx, 'refunds', { bucket: 'sales' });
    await registerTable(server.ctx, 'tickets', { bucket: 'support' });
    await registerTable(server.ctx, 'salaries', { bucket: 'hr' });
    await registerTable(server.ctx, 'holidays', { is_public: true });
    const { repos } = server.ctx;
    await repos.permissions.grantUser(analyst.id, {
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
    const group = await repos.groups.create({ name: 'Support' });
    await repos.groups.addMember(group.id, analyst.id, admin.id);
    await repos.permissions.grantGroup(group.id, {
      dataset: 'support.*',
      access: 'read',
      granted_by: admin.id,
    });
  });
  afterAll(async () => server.close());

  it('GET /api/settings names where each permission comes from', async () => {
    const mine = await call(server, 'GET', '/api/settings', { auth: analyst.auth });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual({
      user_id: analyst.id,
      sync_settings: [],
      permissions: [
        { dataset: 'orders', access: 'read', via: 'user' },
        { dataset: 'support.*', access: 'read', via: 'group:Support' },
        { dataset: 'holidays', access: 'read', via: 'public' },
      ],
    });
    const adminView = await call(server, 'GET', '/api/settings', { auth: admin.auth });
    expect(adminView.body.permissions).toHaveLength(5);
    expect(adminView.body.permissions.every((p: { via: string }) => p.via === 'admin')).toBe(true);
  });

  it('PUT /api/settings/dataset needs a readable table in the dataset (grants of any kind count)', async () => {
    for (const dataset of ['sales', 'support', 'default']) {
      const response = await call(server, 'PUT', '/api/settings/dataset', {
        auth: analyst.auth,
        body: { dataset, enabled: false },
      });
      expect(response.status, dataset).toBe(200);
      expect(response.body).toEqual({ dataset, enabled: false });
    }
    const refused = await call(server, 'PUT', '/api/settings/dataset', {
      auth: analyst.auth,
      body: { dataset: 'hr', enabled: true },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'no_access', dataset: 'hr' });
    const asAdmin = await call(server, 'PUT', '/api/settings/dataset', {
      auth: admin.auth,
      body: { dataset: 'hr', enabled: false },
    });
    expect(asAdmin.status).toBe(200);
    expect(
      (await call(server, 'PUT', '/api/settings/dataset', { auth: analyst.auth, body: { dataset: 'sales' } }))
        .status,
    ).toBe(422);

    const settings = await call(server, 'GET', '/api/settings', { auth: analyst.auth });
    expect(
      settings.body.sync_settings.map((s: { dataset: string; enabled: boolean }) => [s.dataset, s.enabled]),
    ).toEqual([
      ['default', false],
      ['sales', false],
      ['support', false],
    ]);
  });

  it('POST /api/sync/settings is all or nothing and names the refused dataset', async () => {
    const user = await createUser(server.ctx, 'analyst');
    await server.ctx.repos.permissions.grantUser(user.id, {
      dataset: 'sales.*',
      access: 'read',
      granted_by: admin.id,
    });
    const refused = await call(server, 'POST', '/api/sync/settings', {
      auth: user.auth,
      body: { datasets: { sales: false, hr: true } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'no_access', dataset: 'hr' });
    expect(await server.ctx.repos.syncState.listSettings(user.id)).toEqual([]);

    const saved = await call(server, 'POST', '/api/sync/settings', {
      auth: user.auth,
      body: { datasets: { sales: false, default: true } },
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toEqual({ updated: { sales: { enabled: false }, default: { enabled: true } } });

    const read = await call(server, 'GET', '/api/sync/settings', { auth: user.auth });
    expect(read.body).toMatchObject({
      user_id: user.id,
      enabled_datasets: ['default'],
      datasets: [
        { name: 'default', readable_tables: ['holidays'] },
        { name: 'sales', readable_tables: ['orders', 'refunds'] },
      ],
    });
    expect(read.body.settings.map((s: { dataset: string }) => s.dataset)).toEqual(['default', 'sales']);

    const asAdmin = await call(server, 'POST', '/api/sync/settings', {
      auth: admin.auth,
      body: { datasets: { hr: true, sales: true, support: false } },
    });
    expect(asAdmin.status).toBe(200);

    const tooMany = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`d${i}`, true]));
    for (const body of [
      { datasets: {} },
      { datasets: tooMany },
      { datasets: { sales: 'yes' } },
      { datasets: { '': true } },
      {},
    ]) {
      expect((await call(server, 'POST', '/api/sync/settings', { auth: user.auth, body })).status).toBe(422);
    }
  });

  it('table subscriptions accept only readable tables of that dataset and change nothing otherwise', async () => {
    const user = await createUser(server.ctx, 'analyst');
    await server.ctx.repos.permissions.grantUser(user.id, {
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
    const subscribe = (body: unknown) =>
      call(server, 'POST', '/api/sync/table-subscriptions', { auth: user.auth, body });

    const ok = await subscribe({ dataset: 'sales', table_mode: 'selected', tables: ['orders', 'orders'] });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ dataset: 'sales', table_mode: 'selected', tables: ['orders'] });

    const unreadable = await subscribe({
      dataset: 'sales',
      table_mode: 'selected',
      tables: ['orders', 'refunds'],
    });
    expect(unreadable.status).toBe(403);
    expect(unreadable.body).toMatchObject({ code: 'no_access', table: 'refunds' });
    const otherDataset = await subscribe({ dataset: 'sales', table_mode: 'selected', tables: ['holidays'] });
    expect(otherDataset.status).toBe(403);
    const noDataset = await subscribe({ dataset: 'hr', table_mode: 'all' });
    expect(noDataset.status).toBe(403);
    expect(noDataset.body).toMatchObject({ code: 'no_access', dataset: 'hr' });

    const listed = await call(server, 'GET', '/api/sync/table-subscriptions', { auth: user.auth });
    expect(listed.body).toEqual({
      user_id: user.id,
      subscriptions: [
        {
          dataset: 'sales',
          enabled: true,
          table_mode: 'selected',
          tables: ['orders'],
          updated_at: expect.any(String),
        },
      ],
    });

    const all = await subscribe({ dataset: 'sales', table_mode: 'all' });
    expect(all.body).toEqual({ dataset: 'sales', table_mode: 'all', tables: [] });
    const tooMany = Array.from({ length: 1001 }, (_, i) => `t${i}`);
    for (const body of [
      { dataset: 'sales', table_mode: 'some' },
      { dataset: 'sales', table_mode: 'selected', tables: tooMany },
      { dataset: 'sales', table_mode: 'all', enabled: false },
      { table_mode: 'all' },
    ]) {
      expect((await subscribe(body)).status).toBe(422);
    }
  });

  it('needs a signed-in user', async () => {
    for (const [method, path] of [
      ['GET', '/api/settings'],
      ['GET', '/api/sync/settings'],
      ['GET', '/api/sync/table-subscriptions'],
    ]) {
      expect((await call(server, method!, path!)).status).toBe(401);
    }
  });
});

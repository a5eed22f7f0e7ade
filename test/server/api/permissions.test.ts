import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { plainUser, registerTable } from './fixtures.js';

describe('user permissions (/api/admin/permissions) and the access function end to end', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  const check = async (userId: string, table: string) => {
    const response = await call(
      server,
      'GET',
      `/api/admin/access-check?user_id=${userId}&table_id=${table}`,
      {
        auth: admin.auth,
      },
    );
    expect(response.status).toBe(200);
    return response.body;
  };
  const grant = (body: Record<string, unknown>) =>
    call(server, 'POST', '/api/admin/permissions', { auth: admin.auth, body });
  const permissionsOf = async (user: TestUser) =>
    (await call(server, 'GET', '/api/settings', { auth: user.auth })).body.permissions;

  beforeAll(async () => {
    server = await withServer();
    [admin, analyst] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
    ]);
    await registerTable(server.ctx, 'orders', { bucket: 'sales' });
    await registerTable(server.ctx, 'refunds', { bucket: 'sales' });
    await registerTable(server.ctx, 'plain'); // default dataset
    await registerTable(server.ctx, 'holidays', { is_public: true });
    await registerTable(server.ctx, 'salaries', { bucket: 'hr', is_discoverable: false });
  });
  afterAll(async () => server.close());

  it('user grant: default-deny, then read through a direct grant', async () => {
    const user = await createUser(server.ctx, 'analyst');
    expect(await check(user.id, 'orders')).toEqual({
      allowed: false,
      reason: 'no_grant',
      via: null,
      policy: null,
    });
    const granted = await grant({ user_id: user.id, dataset: 'orders' });
    expect(granted.status).toBe(201);
    expect(granted.body).toEqual({
      user_id: user.id,
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
      granted_at: expect.any(String),
    });
    expect(await check(user.id, 'orders')).toEqual({
      allowed: true,
      reason: 'user_grant',
      via: null,
      policy: null,
    });
    expect(await check(user.id, 'refunds')).toMatchObject({ allowed: false });
    expect(await permissionsOf(user)).toEqual(
      expect.arrayContaining([{ dataset: 'orders', access: 'read', via: 'user' }]),
    );
  });

  it('bucket wildcard: <bucket>.* grants every table of the bucket', async () => {
    const user = await createUser(server.ctx, 'viewer');
    expect((await grant({ user_id: user.id, dataset: 'sales.*' })).status).toBe(201);
    expect(await check(user.id, 'orders')).toEqual({
      allowed: true,
      reason: 'bucket_grant',
      via: null,
      policy: null,
    });
    expect(await check(user.id, 'refunds')).toMatchObject({ allowed: true, reason: 'bucket_grant' });
    expect(await check(user.id, 'plain')).toMatchObject({ allowed: false });
    const view = await call(server, 'GET', `/api/admin/permissions/${user.id}`, { auth: admin.auth });
    expect(view.body.readable_tables.sort()).toEqual(['holidays', 'orders', 'refunds']);
  });

  it('`none` grants nothing and never denies: public stays readable, other grants still count', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const none = await grant({ user_id: user.id, dataset: 'holidays', access: 'none' });
    expect(none.status).toBe(201);
    expect(none.body.access).toBe('none');
    expect(await check(user.id, 'holidays')).toEqual({
      allowed: true,
      reason: 'public',
      via: null,
      policy: null,
    });
    await grant({ user_id: user.id, dataset: 'orders', access: 'none' });
    expect(await check(user.id, 'orders')).toMatchObject({ allowed: false, reason: 'no_grant' });
    await grant({ user_id: user.id, dataset: 'sales.*', access: 'read' });
    expect(await check(user.id, 'orders')).toMatchObject({ allowed: true, reason: 'bucket_grant' });
    expect(await permissionsOf(user)).toEqual(
      expect.arrayContaining([
        { dataset: 'holidays', access: 'none', via: 'user' },
        { dataset: 'holidays', access: 'read', via: 'public' },
      ]),
    );
  });

  it('public tables are readable by everyone; unregistered views only by admins', async () => {
    const viewer = await createUser(server.ctx, 'viewer');
    expect(await check(viewer.id, 'holidays')).toEqual({
      allowed: true,
      reason: 'public',
      via: null,
      policy: null,
    });
    expect(await check(viewer.id, 'not_registered')).toEqual({
      allowed: false,
      reason: 'unregistered',
      via: null,
      policy: null,
    });
    expect(await check(admin.id, 'not_registered')).toEqual({
      allowed: true,
      reason: 'admin',
      via: null,
      policy: null,
    });
    expect(await check(admin.id, 'salaries')).toEqual({
      allowed: true,
      reason: 'admin',
      via: null,
      policy: null,
    });
    const adminSettings = await permissionsOf(admin);
    expect(adminSettings).toEqual(
      expect.arrayContaining([{ dataset: 'salaries', access: 'read', via: 'admin' }]),
    );
  });

  it('non-discoverable tables do not exist for non-readers, and inactive users read nothing', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const request = await call(server, 'POST', '/api/access-requests', {
      auth: user.auth,
      body: { table_id: 'salaries' },
    });
    expect(request.status).toBe(404);
    await grant({ user_id: user.id, dataset: 'salaries' });
    expect(await check(user.id, 'salaries')).toMatchObject({ allowed: true, reason: 'user_grant' });
    await server.ctx.repos.users.update(user.id, { active: false });
    expect(await check(user.id, 'salaries')).toEqual({
      allowed: false,
      reason: 'inactive',
      via: null,
      policy: null,
    });
    expect(await check(user.id, 'holidays')).toMatchObject({ allowed: false, reason: 'inactive' });
  });

  it('refuses invalid datasets and access values with 422, unknown users with 404', async () => {
    for (const dataset of ['no_such_table', 'sales', 'sales.**', 'sa les.*', '*', '.*', '']) {
      const response = await grant({ user_id: analyst.id, dataset });
      expect(response.status, dataset).toBe(422);
      if (dataset !== '') expect(response.body.code).toBe('invalid_dataset');
    }
    expect((await grant({ user_id: analyst.id, dataset: 'in.c-sales_2024.*' })).status).toBe(201);
    expect((await grant({ user_id: analyst.id, dataset: 'orders', access: 'write' })).status).toBe(422);
    expect((await grant({ user_id: analyst.id, dataset: 'orders', note: 'x' })).status).toBe(422);
    const unknown = await grant({ user_id: 'ghost', dataset: 'orders' });
    expect(unknown.status).toBe(404);
    expect(
      (
        await call(server, 'POST', '/api/admin/permissions', {
          auth: analyst.auth,
          body: { user_id: analyst.id, dataset: 'orders' },
        })
      ).status,
    ).toBe(403);
  });

  it('revokes with a JSON body or query parameters and says whether anything matched', async () => {
    const user = await plainUser(server.ctx);
    await grant({ user_id: user.id, dataset: 'orders' });
    await grant({ user_id: user.id, dataset: 'refunds' });
    const byBody = await call(server, 'DELETE', '/api/admin/permissions', {
      auth: admin.auth,
      body: { user_id: user.id, dataset: 'orders' },
    });
    expect(byBody.status).toBe(200);
    expect(byBody.body).toEqual({ revoked: true });
    const byQuery = await call(
      server,
      'DELETE',
      `/api/admin/permissions?user_id=${user.id}&dataset=refunds`,
      { auth: admin.auth },
    );
    expect(byQuery.body).toEqual({ revoked: true });
    const again = await call(server, 'DELETE', `/api/admin/permissions?user_id=${user.id}&dataset=refunds`, {
      auth: admin.auth,
    });
    expect(again.body).toEqual({ revoked: false });
    expect(await check(user.id, 'orders')).toMatchObject({ allowed: false });

    const missing = await call(server, 'DELETE', `/api/admin/permissions?user_id=${user.id}`, {
      auth: admin.auth,
    });
    expect(missing.status).toBe(422);
    expect(missing.body.errors).toEqual([{ path: '/body/dataset', message: 'is required' }]);
    const extra = await call(server, 'DELETE', '/api/admin/permissions', {
      auth: admin.auth,
      body: { user_id: user.id, dataset: 'orders', all: true },
    });
    expect(extra.status).toBe(422);
  });

  it("shows one user's grants, group grants and readable tables; 404 for unknown users", async () => {
    const user = await createUser(server.ctx, 'analyst');
    await grant({ user_id: user.id, dataset: 'plain' });
    const group = await server.ctx.repos.groups.create({ name: 'Refunders' });
    await server.ctx.repos.groups.addMember(group.id, user.id, admin.id);
    await server.ctx.repos.permissions.grantGroup(group.id, {
      dataset: 'refunds',
      access: 'read',
      granted_by: admin.id,
    });
    const view = await call(server, 'GET', `/api/admin/permissions/${user.id}`, { auth: admin.auth });
    expect(view.status).toBe(200);
    expect(view.body).toEqual({
      user_id: user.id,
      permissions: [
        { dataset: 'plain', access: 'read', granted_by: admin.id, granted_at: expect.any(String) },
      ],
      group_permissions: [
        { group_id: group.id, group_name: 'Refunders', dataset: 'refunds', access: 'read' },
      ],
      readable_tables: expect.arrayContaining(['plain', 'refunds', 'holidays']),
    });
    expect(view.body.readable_tables).toHaveLength(3);
    expect((await call(server, 'GET', '/api/admin/permissions/ghost', { auth: admin.auth })).status).toBe(
      404,
    );
    expect(
      (
        await call(server, 'GET', '/api/admin/access-check?user_id=ghost&table_id=orders', {
          auth: admin.auth,
        })
      ).status,
    ).toBe(404);
    expect(
      (await call(server, 'GET', '/api/admin/access-check?user_id=x', { auth: admin.auth })).status,
    ).toBe(422);
    expect(
      (
        await call(server, 'GET', `/api/admin/access-check?user_id=${user.id}&table_id=orders`, {
          auth: user.auth,
        })
      ).status,
    ).toBe(403);
  });

  it('lists direct grants with emails, filtered by dataset and paged', async () => {
    const all = await call(server, 'GET', '/api/admin/permissions?dataset=orders', { auth: admin.auth });
    expect(all.status).toBe(200);
    expect(all.body.total).toBeGreaterThanOrEqual(2);
    expect(
      all.body.permissions.every(
        (p: { dataset: string; email: string }) => p.dataset === 'orders' && p.email.includes('@'),
      ),
    ).toBe(true);
    const paged = await call(server, 'GET', '/api/admin/permissions?per_page=1&page=2', { auth: admin.auth });
    expect(paged.body).toMatchObject({ page: 2, per_page: 1 });
    expect(paged.body.permissions).toHaveLength(1);
    expect(
      (await call(server, 'GET', '/api/admin/permissions?per_page=500', { auth: admin.auth })).status,
    ).toBe(422);
  });

  it('R11: 50 concurrent grants over HTTP give 50 rows and no 5xx or SQLITE_BUSY', async () => {
    const users = await Promise.all(Array.from({ length: 25 }, () => plainUser(server.ctx)));
    const responses = await Promise.all(
      users.flatMap((u) => [
        grant({ user_id: u.id, dataset: 'orders' }),
        grant({ user_id: u.id, dataset: 'sales.*' }),
      ]),
    );
    expect(responses).toHaveLength(50);
    expect(responses.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    expect(responses.some((r) => /SQLITE|busy/i.test(r.text))).toBe(false);
    const rows = await Promise.all(users.map((u) => server.ctx.repos.permissions.listForUser(u.id)));
    expect(rows.flat()).toHaveLength(50);
  });
});

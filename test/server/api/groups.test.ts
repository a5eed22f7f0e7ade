import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { plainUser, registerTable } from './fixtures.js';

describe('groups (/api/admin/groups)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  const createGroup = async (name: string, description?: string) => {
    const response = await call(server, 'POST', '/api/admin/groups', {
      auth: admin.auth,
      body: description === undefined ? { name } : { name, description },
    });
    expect(response.status).toBe(201);
    return response.body as { id: string; name: string };
  };

  beforeAll(async () => {
    server = await withServer();
    [admin, analyst] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
    ]);
    await registerTable(server.ctx, 'orders', { bucket: 'sales' });
    await registerTable(server.ctx, 'refunds', { bucket: 'sales' });
    await registerTable(server.ctx, 'tickets', { bucket: 'support' });
  });
  afterAll(async () => server.close());

  it('creates, lists, renames and deletes groups; names are unique in any case', async () => {
    const created = await call(server, 'POST', '/api/admin/groups', {
      auth: admin.auth,
      body: { name: 'Finance', description: 'Money people' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'Finance',
      description: 'Money people',
      member_count: 0,
      permission_count: 0,
    });
    const dup = await call(server, 'POST', '/api/admin/groups', {
      auth: admin.auth,
      body: { name: 'FINANCE' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('name_exists');
    const other = await createGroup('Ops');
    const clash = await call(server, 'PATCH', `/api/admin/groups/${other.id}`, {
      auth: admin.auth,
      body: { name: 'finance' },
    });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('name_exists');
    const renamed = await call(server, 'PATCH', `/api/admin/groups/${other.id}`, {
      auth: admin.auth,
      body: { name: 'Operations', description: 'Runs things' },
    });
    expect(renamed.body).toMatchObject({ name: 'Operations', description: 'Runs things' });
    const unchanged = await call(server, 'PATCH', `/api/admin/groups/${other.id}`, {
      auth: admin.auth,
      body: {},
    });
    expect(unchanged.status).toBe(200);
    expect(unchanged.body).toMatchObject({ name: 'Operations', description: 'Runs things' });

    const list = await call(server, 'GET', '/api/admin/groups?per_page=1', { auth: admin.auth });
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ total: expect.any(Number), page: 1, per_page: 1 });
    expect(list.body.groups).toHaveLength(1);
    expect(list.body.total).toBeGreaterThanOrEqual(2);

    expect((await call(server, 'DELETE', `/api/admin/groups/${other.id}`, { auth: admin.auth })).status).toBe(
      204,
    );
    expect((await call(server, 'GET', `/api/admin/groups/${other.id}`, { auth: admin.auth })).status).toBe(
      404,
    );
    expect((await call(server, 'DELETE', `/api/admin/groups/${other.id}`, { auth: admin.auth })).status).toBe(
      404,
    );
    expect(
      (
        await call(server, 'PATCH', `/api/admin/groups/${other.id}`, {
          auth: admin.auth,
          body: { name: 'x' },
        })
      ).status,
    ).toBe(404);
  });

  it('validates bodies: name 1–100, description ≤ 500, no unknown fields', async () => {
    for (const body of [
      { name: '' },
      { name: 'x'.repeat(101) },
      { name: 'ok', description: 'd'.repeat(501) },
      { name: 'ok', id: 'mine' },
    ]) {
      const response = await call(server, 'POST', '/api/admin/groups', { auth: admin.auth, body });
      expect(response.status).toBe(422);
    }
    expect(
      (await call(server, 'POST', '/api/admin/groups', { auth: analyst.auth, body: { name: 'Nope' } }))
        .status,
    ).toBe(403);
  });

  it('adds and removes members (201, then 200 when already a member; 404 for unknown ids)', async () => {
    const group = await createGroup('Members');
    const user = await plainUser(server.ctx);
    const path = `/api/admin/groups/${group.id}/members`;
    const first = await call(server, 'POST', path, { auth: admin.auth, body: { user_id: user.id } });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({ group_id: group.id, user_id: user.id });
    expect((await call(server, 'POST', path, { auth: admin.auth, body: { user_id: user.id } })).status).toBe(
      200,
    );
    expect((await call(server, 'POST', path, { auth: admin.auth, body: { user_id: 'ghost' } })).status).toBe(
      404,
    );
    expect(
      (
        await call(server, 'POST', '/api/admin/groups/ghost/members', {
          auth: admin.auth,
          body: { user_id: user.id },
        })
      ).status,
    ).toBe(404);

    const detail = await call(server, 'GET', `/api/admin/groups/${group.id}`, { auth: admin.auth });
    expect(detail.body.members).toEqual([{ id: user.id, email: user.email, name: user.name }]);
    const me = await call(server, 'GET', `/api/users/${user.id}`, { auth: admin.auth });
    expect(me.body.groups).toEqual([{ id: group.id, name: 'Members' }]);

    expect((await call(server, 'DELETE', `${path}/${user.id}`, { auth: admin.auth })).status).toBe(204);
    expect((await call(server, 'DELETE', `${path}/${user.id}`, { auth: admin.auth })).status).toBe(404);
  });

  it('grants datasets to a group, validating them, and a group grant reaches its members', async () => {
    const group = await createGroup('Sales team');
    const member = await createUser(server.ctx, 'analyst');
    await call(server, 'POST', `/api/admin/groups/${group.id}/members`, {
      auth: admin.auth,
      body: { user_id: member.id },
    });
    const check = async (table: string) =>
      (
        await call(server, 'GET', `/api/admin/access-check?user_id=${member.id}&table_id=${table}`, {
          auth: admin.auth,
        })
      ).body;
    expect(await check('orders')).toEqual({ allowed: false, reason: 'no_grant', via: null, policy: null });

    const path = `/api/admin/groups/${group.id}/permissions`;
    const grant = await call(server, 'POST', path, {
      auth: admin.auth,
      body: { dataset: 'orders', access: 'read' },
    });
    expect(grant.status).toBe(201);
    expect(grant.body).toMatchObject({
      group_id: group.id,
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
    expect(await check('orders')).toEqual({
      allowed: true,
      reason: 'group_grant',
      via: 'Sales team',
      policy: null,
    });
    expect(await check('refunds')).toMatchObject({ allowed: false });

    const bucket = await call(server, 'POST', path, {
      auth: admin.auth,
      body: { dataset: 'support.*', access: 'read' },
    });
    expect(bucket.status).toBe(201);
    expect(await check('tickets')).toEqual({
      allowed: true,
      reason: 'bucket_grant',
      via: 'Sales team',
      policy: null,
    });

    const settings = await call(server, 'GET', '/api/settings', { auth: member.auth });
    expect(settings.body.permissions).toEqual(
      expect.arrayContaining([
        { dataset: 'orders', access: 'read', via: 'group:Sales team' },
        { dataset: 'support.*', access: 'read', via: 'group:Sales team' },
      ]),
    );

    for (const dataset of ['unregistered_table', 'free text', 'bad bucket.*', '.*', `${'b'.repeat(201)}.*`]) {
      const bad = await call(server, 'POST', path, { auth: admin.auth, body: { dataset, access: 'read' } });
      expect(bad.status, dataset).toBe(422);
      expect(bad.body.code).toBe('invalid_dataset');
    }
    expect(
      (await call(server, 'POST', path, { auth: admin.auth, body: { dataset: 'orders', access: 'write' } }))
        .status,
    ).toBe(422);
    expect(
      (
        await call(server, 'POST', '/api/admin/groups/ghost/permissions', {
          auth: admin.auth,
          body: { dataset: 'orders' },
        })
      ).status,
    ).toBe(404);

    const detail = await call(server, 'GET', `/api/admin/groups/${group.id}`, { auth: admin.auth });
    expect(detail.body.permissions.map((p: { dataset: string }) => p.dataset)).toEqual([
      'orders',
      'support.*',
    ]);
    const listed = await call(server, 'GET', '/api/admin/groups?per_page=200', { auth: admin.auth });
    expect(listed.body.groups.find((g: { id: string }) => g.id === group.id)).toMatchObject({
      member_count: 1,
      permission_count: 2,
    });

    expect((await call(server, 'DELETE', `${path}?dataset=orders`, { auth: admin.auth })).status).toBe(204);
    expect((await call(server, 'DELETE', `${path}?dataset=orders`, { auth: admin.auth })).status).toBe(404);
    expect((await call(server, 'DELETE', path, { auth: admin.auth })).status).toBe(422);
    expect(await check('orders')).toMatchObject({ allowed: false, reason: 'no_grant' });

    // Deleting the group removes its grants and memberships.
    expect((await call(server, 'DELETE', `/api/admin/groups/${group.id}`, { auth: admin.auth })).status).toBe(
      204,
    );
    expect(await check('tickets')).toMatchObject({ allowed: false });
    expect(await server.ctx.repos.groups.listGroupsOfUser(member.id)).toEqual([]);
  });

  it('R11: 50 concurrent member adds over HTTP all succeed, without a 5xx', async () => {
    const group = await createGroup('Crowd');
    const users = await Promise.all(Array.from({ length: 50 }, () => plainUser(server.ctx)));
    const responses = await Promise.all(
      users.map((u) =>
        call(server, 'POST', `/api/admin/groups/${group.id}/members`, {
          auth: admin.auth,
          body: { user_id: u.id },
        }),
      ),
    );
    expect(responses.filter((r) => r.status >= 500)).toEqual([]);
    expect(responses.every((r) => r.status === 201)).toBe(true);
    expect(responses.some((r) => r.text.includes('SQLITE'))).toBe(false);
    expect(await server.ctx.repos.groups.listMembers(group.id)).toHaveLength(50);
  });
});

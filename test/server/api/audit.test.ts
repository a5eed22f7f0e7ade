import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

describe('audit log (/api/admin/audit, /api/audit/mine)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;
  let groupId: string;

  beforeAll(async () => {
    server = await withServer();
    [admin, analyst] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
    ]);
    const group = await call(server, 'POST', '/api/admin/groups', {
      auth: admin.auth,
      body: { name: 'Audited' },
    });
    groupId = group.body.id;
    await call(server, 'PATCH', `/api/admin/groups/${groupId}`, {
      auth: admin.auth,
      body: { description: 'x' },
    });
    await call(server, 'PATCH', '/api/users/me', { auth: analyst.auth, body: { name: 'Analyst Renamed' } });
    await call(server, 'POST', '/api/tokens', { auth: analyst.auth, body: { name: 'secret-holder' } });
    await call(server, 'POST', '/auth/token', {
      body: { email: analyst.email, password: 'wrong-password-123' },
    });
  });
  afterAll(async () => server.close());

  it('returns entries newest first with the user email, and records the read itself', async () => {
    const page = await call(server, 'GET', '/api/admin/audit', { auth: admin.auth });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ page: 1, per_page: 50 });
    const times = page.body.entries.map((e: { timestamp: string }) => e.timestamp);
    expect([...times].sort().reverse()).toEqual(times);
    const create = page.body.entries.find((e: { action: string }) => e.action === 'group.create');
    expect(create).toEqual({
      id: expect.any(String),
      timestamp: expect.any(String),
      user_id: admin.id,
      user_email: admin.email,
      action: 'group.create',
      resource: groupId,
      params: { name: 'Audited' },
      result: 'ok',
      status_code: 201,
      duration_ms: expect.any(Number),
      request_id: expect.any(String),
      client: 'api',
    });
    const failed = page.body.entries.find((e: { action: string }) => e.action === 'auth.login_failed');
    expect(failed).toMatchObject({
      user_id: null,
      user_email: null,
      result: 'denied',
      params: { email: analyst.email },
    });
    expect(page.text).not.toContain('wrong-password-123');

    const again = await call(server, 'GET', '/api/admin/audit?action=audit.read', { auth: admin.auth });
    expect(again.body.entries[0]).toMatchObject({ action: 'audit.read', user_id: admin.id, result: 'ok' });
  });

  it('filters by user, exact action, action prefix, resource and time window', async () => {
    const get = async (query: string) => {
      const response = await call(server, 'GET', `/api/admin/audit?${query}`, { auth: admin.auth });
      expect(response.status, query).toBe(200);
      return response.body.entries as {
        action: string;
        user_id: string;
        resource: string;
        timestamp: string;
      }[];
    };
    const byUser = await get(`user_id=${analyst.id}`);
    expect(byUser.length).toBeGreaterThanOrEqual(2);
    expect(byUser.every((e) => e.user_id === analyst.id)).toBe(true);
    expect((await get('action=group.update')).map((e) => e.action)).toEqual(['group.update']);
    expect((await get('action=group.*')).map((e) => e.action).sort()).toEqual([
      'group.create',
      'group.update',
    ]);
    expect((await get('action=group')).length).toBe(0);
    expect((await get(`resource=${groupId}`)).length).toBe(2);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await get(`since=${encodeURIComponent(future)}`)).length).toBe(0);
    expect((await get(`until=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).length).toBe(0);
    const window = await get(`action=group.*&since=2000-01-01T00:00:00Z&until=${encodeURIComponent(future)}`);
    expect(window).toHaveLength(2);
    const paged = await call(server, 'GET', '/api/admin/audit?per_page=1&page=2', { auth: admin.auth });
    expect(paged.body.entries).toHaveLength(1);
    expect(paged.body.total).toBeGreaterThan(2);
    for (const query of ['since=yesterday', 'per_page=0', 'page=-1', 'colour=red']) {
      expect(
        (await call(server, 'GET', `/api/admin/audit?${query}`, { auth: admin.auth })).status,
        query,
      ).toBe(422);
    }
  });

  it("never holds a token, and everyone reads only their own entries; the admin log is admins' only", async () => {
    const all = await call(server, 'GET', '/api/admin/audit?per_page=200', { auth: admin.auth });
    expect(all.text).not.toContain('agnes_pat_');
    const mine = await call(server, 'GET', '/api/audit/mine', { auth: analyst.auth });
    expect(mine.status).toBe(200);
    expect(mine.body.entries.length).toBeGreaterThanOrEqual(2);
    expect(mine.body.entries.every((e: { user_id: string }) => e.user_id === analyst.id)).toBe(true);
    expect(mine.body.entries.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['user.update', 'pat.create']),
    );
    const denied = await call(server, 'GET', '/api/admin/audit', { auth: analyst.auth });
    expect(denied.status).toBe(403);
    expect((await call(server, 'GET', '/api/audit/mine')).status).toBe(401);
  });
});

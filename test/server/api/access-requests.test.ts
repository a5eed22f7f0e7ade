import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { registerTable } from './fixtures.js';

describe('access requests (/api/access-requests)', () => {
  let server: TestServer;
  let admin: TestUser;
  let admin2: TestUser;

  const request = (user: TestUser, table_id: string, reason?: string) =>
    call(server, 'POST', '/api/access-requests', {
      auth: user.auth,
      body: reason === undefined ? { table_id } : { table_id, reason },
    });
  const review = (who: TestUser, id: string, action: 'approve' | 'deny', body?: unknown) =>
    call(server, 'POST', `/api/access-requests/${id}/${action}`, { auth: who.auth, body });
  const grantRows = async (userId: string, dataset: string) =>
    (await server.ctx.repos.permissions.listForUser(userId)).filter((p) => p.dataset === dataset);

  beforeAll(async () => {
    server = await withServer({ config: { limits: { max_pending_access_requests: 3 } } });
    [admin, admin2] = await Promise.all([createUser(server.ctx, 'admin'), createUser(server.ctx, 'admin')]);
    for (const id of ['orders', 'refunds', 'leads', 'tickets', 'visits', 'campaigns'])
      await registerTable(server.ctx, id, { name: `${id} table`, bucket: 'crm' });
    await registerTable(server.ctx, 'holidays', { is_public: true });
    await registerTable(server.ctx, 'salaries', { is_discoverable: false });
  });
  afterAll(async () => server.close());

  it('creates a pending request for a discoverable table and notifies every admin', async () => {
    const user = await createUser(server.ctx, 'viewer');
    const created = await request(user, 'orders', 'quarterly report');
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), status: 'pending', table_id: 'orders' });
    for (const a of [admin, admin2]) {
      const inbox = await server.ctx.repos.notifications.listForUser(a.id);
      expect(
        inbox.items.some((n) => n.source_kind === 'access_request' && n.source_id === created.body.id),
      ).toBe(true);
    }
    const mine = await call(server, 'GET', '/api/access-requests/my', { auth: user.auth });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ total: 1, page: 1, per_page: 50 });
    expect(mine.body.requests[0]).toEqual({
      id: created.body.id,
      user_id: user.id,
      user_email: user.email,
      table_id: 'orders',
      table_name: 'orders table',
      reason: 'quarterly report',
      status: 'pending',
      reviewed_by: null,
      reviewed_by_email: null,
      reviewed_at: null,
      review_note: null,
      created_at: expect.any(String),
    });
  });

  it('answers 404 for unregistered and non-discoverable tables, 409 for pending and granted ones', async () => {
    const user = await createUser(server.ctx, 'analyst');
    for (const table of ['nowhere', 'salaries']) {
      const response = await request(user, table);
      expect(response.status, table).toBe(404);
      expect(response.body.detail).toBe('table not found');
    }
    expect((await request(user, 'refunds')).status).toBe(201);
    const twice = await request(user, 'refunds');
    expect(twice.status).toBe(409);
    expect(twice.body.code).toBe('already_pending');
    const publicTable = await request(user, 'holidays');
    expect(publicTable.status).toBe(409);
    expect(publicTable.body.code).toBe('already_granted');
    await server.ctx.repos.permissions.grantUser(user.id, {
      dataset: 'crm.*',
      access: 'read',
      granted_by: admin.id,
    });
    expect((await request(user, 'leads')).body.code).toBe('already_granted');
    expect((await request(admin, 'leads')).body.code).toBe('already_granted');
    expect(
      (
        await call(server, 'POST', '/api/access-requests', {
          auth: user.auth,
          body: { table_id: 'orders', reason: 'r'.repeat(1001) },
        })
      ).status,
    ).toBe(422);
    expect(
      (
        await call(server, 'POST', '/api/access-requests', {
          auth: user.auth,
          body: { table_id: 'orders', user_id: admin.id },
        })
      ).status,
    ).toBe(422);
  });

  it('limits pending requests per user (limits.max_pending_access_requests)', async () => {
    const user = await createUser(server.ctx, 'viewer');
    for (const table of ['orders', 'refunds', 'leads']) expect((await request(user, table)).status).toBe(201);
    const fourth = await request(user, 'tickets');
    expect(fourth.status).toBe(409);
    expect(fourth.body.code).toBe('too_many_pending');
    expect((await server.ctx.repos.accessRequests.list({ user_id: user.id })).total).toBe(3);
  });

  it('approve grants read in the same step; reviewing again is 409 not_pending with the status', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const created = await request(user, 'tickets');
    const approved = await review(admin, created.body.id, 'approve', { note: 'ok for Q3' });
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({ status: 'approved', id: created.body.id });
    expect(await grantRows(user.id, 'tickets')).toEqual([
      expect.objectContaining({ access: 'read', granted_by: admin.id }),
    ]);
    const check = await call(server, 'GET', `/api/admin/access-check?user_id=${user.id}&table_id=tickets`, {
      auth: admin.auth,
    });
    expect(check.body).toEqual({ allowed: true, reason: 'user_grant', via: null, policy: null });
    const inbox = await server.ctx.repos.notifications.listForUser(user.id);
    expect(inbox.items.map((n) => n.source_id)).toContain(created.body.id);

    const mine = await call(server, 'GET', '/api/access-requests/my', { auth: user.auth });
    expect(mine.body.requests[0]).toMatchObject({
      status: 'approved',
      reviewed_by: admin.id,
      reviewed_by_email: admin.email,
      review_note: 'ok for Q3',
      reviewed_at: expect.any(String),
    });
    for (const action of ['approve', 'deny'] as const) {
      const again = await review(admin2, created.body.id, action);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({ code: 'not_pending', status: 'approved' });
    }
    expect((await review(admin, 'no-such-request', 'approve')).status).toBe(404);
    expect((await review(user as TestUser, created.body.id, 'approve')).status).toBe(403);
  });

  it('deny records the reviewer, notifies the requester and allows a new request', async () => {
    const user = await createUser(server.ctx, 'viewer');
    const created = await request(user, 'visits');
    const denied = await review(admin, created.body.id, 'deny', { note: 'not needed' });
    expect(denied.body).toEqual({ status: 'denied', id: created.body.id });
    const row = await server.ctx.repos.accessRequests.get(created.body.id);
    expect(row).toMatchObject({ status: 'denied', reviewed_by: admin.id, review_note: 'not needed' });
    expect(await grantRows(user.id, 'visits')).toEqual([]);
    expect((await server.ctx.repos.notifications.listForUser(user.id)).total).toBe(1);
    expect((await request(user, 'visits')).status).toBe(201);
    expect((await review(admin, 'no-such-request', 'deny')).status).toBe(404);
    expect(
      (
        await call(server, 'POST', `/api/access-requests/${created.body.id}/deny`, {
          auth: admin.auth,
          body: { note: 'n'.repeat(1001) },
        })
      ).status,
    ).toBe(422);
  });

  it('approving after the table was unregistered is 409 table_unregistered and grants nothing', async () => {
    await registerTable(server.ctx, 'temporary', { bucket: 'crm' });
    const user = await createUser(server.ctx, 'viewer');
    const created = await request(user, 'temporary');
    await server.ctx.repos.registry.delete('temporary');
    const approved = await review(admin, created.body.id, 'approve');
    expect(approved.status).toBe(409);
    expect(approved.body.code).toBe('table_unregistered');
    expect((await server.ctx.repos.accessRequests.get(created.body.id))?.status).toBe('pending');
    expect(await grantRows(user.id, 'temporary')).toEqual([]);
    const mine = await call(server, 'GET', '/api/access-requests/my', { auth: user.auth });
    expect(mine.body.requests[0].table_name).toBeNull();
  });

  it('the requester (or an admin) cancels while pending; someone else gets 404', async () => {
    const [owner, stranger] = await Promise.all([
      createUser(server.ctx, 'viewer'),
      createUser(server.ctx, 'analyst'),
    ]);
    const created = await request(owner, 'campaigns');
    const path = `/api/access-requests/${created.body.id}`;
    expect((await call(server, 'DELETE', path, { auth: stranger.auth })).status).toBe(404);
    expect((await call(server, 'DELETE', path, { auth: owner.auth })).status).toBe(204);
    const again = await call(server, 'DELETE', path, { auth: owner.auth });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'not_pending', status: 'cancelled' });
    expect((await review(admin, created.body.id, 'approve')).body).toMatchObject({
      code: 'not_pending',
      status: 'cancelled',
    });
    expect((await call(server, 'DELETE', '/api/access-requests/ghost', { auth: owner.auth })).status).toBe(
      404,
    );

    const second = await request(owner, 'campaigns');
    expect(
      (await call(server, 'DELETE', `/api/access-requests/${second.body.id}`, { auth: admin.auth })).status,
    ).toBe(204);
  });

  it('lists pending requests for admins, newest first, with count and paging', async () => {
    const pending = await call(server, 'GET', '/api/access-requests/pending?per_page=2', {
      auth: admin.auth,
    });
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({ page: 1, per_page: 2, count: pending.body.total });
    expect(pending.body.requests).toHaveLength(2);
    expect(pending.body.requests.every((r: { status: string }) => r.status === 'pending')).toBe(true);
    const times = pending.body.requests.map((r: { created_at: string }) => r.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    const viewer = await createUser(server.ctx, 'viewer');
    expect((await call(server, 'GET', '/api/access-requests/pending', { auth: viewer.auth })).status).toBe(
      403,
    );
  });

  it('R10: two admins approving the same request at once: one 200, one 409, one grant row', async () => {
    for (const table of ['orders', 'refunds', 'leads']) {
      const user = await createUser(server.ctx, 'analyst');
      const created = await request(user, table);
      const results = await Promise.all([
        review(admin, created.body.id, 'approve'),
        review(admin2, created.body.id, 'approve'),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      expect(results.find((r) => r.status === 409)?.body).toMatchObject({
        code: 'not_pending',
        status: 'approved',
      });
      expect(await grantRows(user.id, table)).toHaveLength(1);
    }
  });
});

import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { plainUser, registerTable, sessionToken } from './fixtures.js';

const PASSWORD = 'a-long-unusual-passphrase';

describe('users (/api/users)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  beforeAll(async () => {
    server = await withServer();
    admin = await createUser(server.ctx, 'admin', { email: 'aaa-admin@example.com' });
    analyst = await createUser(server.ctx, 'analyst', { email: 'bbb-analyst@example.com' });
  });
  afterAll(async () => server.close());

  it('creates a user with an invite whose setup link works when no mail is configured', async () => {
    const created = await call(server, 'POST', '/api/users', {
      auth: admin.auth,
      body: { email: 'New.Person@Example.com', name: 'New Person', role: 'viewer' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      email: 'new.person@example.com',
      name: 'New Person',
      role: 'viewer',
      active: true,
      is_service: false,
      groups: [],
      invite_sent: false,
      setup_url: expect.stringMatching(/\/auth\/password\/setup\?token=/),
    });
    expect(created.body).not.toHaveProperty('password_hash');
    expect(created.body).not.toHaveProperty('setup_token');
    const token = new URL(created.body.setup_url).searchParams.get('token')!;
    const setup = await call(server, 'POST', '/auth/password/setup', { body: { token, password: PASSWORD } });
    expect(setup.status).toBe(200);
    expect(setup.body).toMatchObject({ email: 'new.person@example.com', role: 'viewer' });
  });

  it('creates without an invite, service accounts never get one, and defaults apply', async () => {
    const quiet = await call(server, 'POST', '/api/users', {
      auth: admin.auth,
      body: { email: 'quiet@example.com', send_invite: false },
    });
    expect(quiet.status).toBe(201);
    expect(quiet.body).toMatchObject({ role: 'analyst', name: '', invite_sent: false });
    expect(quiet.body).not.toHaveProperty('setup_url');
    const service = await call(server, 'POST', '/api/users', {
      auth: admin.auth,
      body: { email: 'robot@example.com', is_service: true, role: 'admin' },
    });
    expect(service.status).toBe(201);
    expect(service.body).toMatchObject({ is_service: true, role: 'admin', invite_sent: false });
    expect(service.body).not.toHaveProperty('setup_url');
  });

  it('refuses duplicate emails (any case) with 409 email_exists, and invalid input with 422', async () => {
    const dup = await call(server, 'POST', '/api/users', {
      auth: admin.auth,
      body: { email: 'BBB-Analyst@example.com' },
    });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('email_exists');
    for (const body of [
      { email: 'not-an-email' },
      { email: 'x@example.com', role: 'superuser' },
      { email: 'x@example.com', name: '' },
      { email: 'x@example.com', password_hash: 'x' },
      { email: 'x@example.com', send_invite: 'yes' },
    ]) {
      const response = await call(server, 'POST', '/api/users', { auth: admin.auth, body });
      expect(response.status, JSON.stringify(body)).toBe(422);
    }
    expect(
      (await call(server, 'POST', '/api/users', { auth: analyst.auth, body: { email: 'y@example.com' } }))
        .status,
    ).toBe(403);
  });

  it('lists users sorted by email with search, role, active filters and paging', async () => {
    const all = await call(server, 'GET', '/api/users?per_page=200', { auth: admin.auth });
    expect(all.status).toBe(200);
    const emails = all.body.users.map((u: { email: string }) => u.email);
    expect(emails).toEqual([...emails].sort());
    expect(all.body).toMatchObject({ total: emails.length, page: 1, per_page: 200 });

    const search = await call(server, 'GET', '/api/users?search=ANALYST', { auth: admin.auth });
    expect(search.body.users.map((u: { id: string }) => u.id)).toContain(analyst.id);
    expect(
      search.body.users.every((u: { email: string; name: string }) => /analyst/i.test(u.email + u.name)),
    ).toBe(true);

    const admins = await call(server, 'GET', '/api/users?role=admin', { auth: admin.auth });
    expect(admins.body.users.every((u: { role: string }) => u.role === 'admin')).toBe(true);

    const inactive = await plainUser(server.ctx, 'viewer');
    await server.ctx.repos.users.update(inactive.id, { active: false });
    const off = await call(server, 'GET', '/api/users?active=false', { auth: admin.auth });
    expect(off.body.users.map((u: { id: string }) => u.id)).toEqual([inactive.id]);

    const page2 = await call(server, 'GET', '/api/users?per_page=1&page=2', { auth: admin.auth });
    expect(page2.body.users).toHaveLength(1);
    expect(page2.body.users[0].email).toBe(emails[1]);
    for (const query of ['per_page=0', 'per_page=201', 'page=0', 'role=root', 'unknown=1']) {
      expect((await call(server, 'GET', `/api/users?${query}`, { auth: admin.auth })).status, query).toBe(
        422,
      );
    }
    expect((await call(server, 'GET', '/api/users', { auth: analyst.auth })).status).toBe(403);
  });

  it('gets and patches a user; unknown ids are 404', async () => {
    const user = await plainUser(server.ctx, 'viewer');
    const got = await call(server, 'GET', `/api/users/${user.id}`, { auth: admin.auth });
    expect(got.body).toMatchObject({ id: user.id, role: 'viewer' });
    const patched = await call(server, 'PATCH', `/api/users/${user.id}`, {
      auth: admin.auth,
      body: { name: 'Renamed', role: 'km_admin' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'Renamed', role: 'km_admin', active: true });
    expect(
      (await call(server, 'PATCH', `/api/users/${user.id}`, { auth: admin.auth, body: { email: 'x@y.z' } }))
        .status,
    ).toBe(422);
    expect((await call(server, 'GET', '/api/users/nobody', { auth: admin.auth })).status).toBe(404);
    expect(
      (await call(server, 'PATCH', '/api/users/nobody', { auth: admin.auth, body: { name: 'x' } })).status,
    ).toBe(404);
    expect((await call(server, 'DELETE', '/api/users/nobody', { auth: admin.auth })).status).toBe(404);
  });

  it('lets anyone rename themselves through /api/users/me, and nothing else', async () => {
    const viewer = await createUser(server.ctx, 'viewer');
    const renamed = await call(server, 'PATCH', '/api/users/me', {
      auth: viewer.auth,
      body: { name: 'Me Myself' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: viewer.id, name: 'Me Myself', role: 'viewer' });
    const escalate = await call(server, 'PATCH', '/api/users/me', {
      auth: viewer.auth,
      body: { name: 'x', role: 'admin' },
    });
    expect(escalate.status).toBe(422);
    expect((await server.ctx.repos.users.getById(viewer.id))?.role).toBe('viewer');
    expect(
      (await call(server, 'PATCH', '/api/users/me', { auth: viewer.auth, body: { name: '' } })).status,
    ).toBe(422);
  });

  it('deactivation ends existing sessions and tokens, even after reactivation', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const jwt = `Bearer ${await sessionToken(server.ctx, user.id, new Date(Date.now() - 5_000))}`;
    expect((await call(server, 'GET', '/auth/me', { auth: jwt })).status).toBe(200);
    const off = await call(server, 'PATCH', `/api/users/${user.id}`, {
      auth: admin.auth,
      body: { active: false },
    });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect((await call(server, 'GET', '/auth/me', { auth: jwt })).status).toBe(401);
    expect((await call(server, 'GET', '/auth/me', { auth: user.auth })).status).toBe(401);
    const on = await call(server, 'PATCH', `/api/users/${user.id}`, {
      auth: admin.auth,
      body: { active: true },
    });
    expect(on.body.active).toBe(true);
    expect((await call(server, 'GET', '/auth/me', { auth: jwt })).status).toBe(401);
    expect((await call(server, 'GET', '/auth/me', { auth: user.auth })).status).toBe(401);
    const login = await call(server, 'POST', '/auth/token', {
      body: { email: user.email, password: user.password },
    });
    expect(login.status).toBe(200);
    expect(
      (await call(server, 'GET', '/auth/me', { auth: `Bearer ${login.body.access_token}` })).status,
    ).toBe(200);
  });

  it('deletes a user with tokens, memberships and grants; audit rows keep the id', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const { repos } = server.ctx;
    const group = await repos.groups.create({ name: `g-${Date.now()}` });
    await repos.groups.addMember(group.id, user.id, admin.id);
    await registerTable(server.ctx, 'del_t1');
    await repos.permissions.grantUser(user.id, { dataset: 'del_t1', access: 'read', granted_by: admin.id });
    await repos.syncState.saveSettings(user.id, [{ dataset: 'default', enabled: false }]);
    await call(server, 'PATCH', '/api/users/me', { auth: user.auth, body: { name: 'Leaving' } });

    expect((await call(server, 'DELETE', `/api/users/${user.id}`, { auth: admin.auth })).status).toBe(204);
    expect(await repos.users.getById(user.id)).toBeUndefined();
    expect(await repos.tokens.listByUser(user.id)).toEqual([]);
    expect(await repos.groups.listMembers(group.id)).toEqual([]);
    expect(await repos.permissions.listForUser(user.id)).toEqual([]);
    expect(await repos.syncState.listSettings(user.id)).toEqual([]);
    expect((await repos.audit.list({ user_id: user.id })).total).toBeGreaterThan(0);
    expect((await call(server, 'GET', '/auth/me', { auth: user.auth })).status).toBe(401);
  });

  it('issues a new invite that replaces the old one; service accounts get 409', async () => {
    const created = await call(server, 'POST', '/api/users', {
      auth: admin.auth,
      body: { email: 'reinvite@example.com' },
    });
    const first = new URL(created.body.setup_url).searchParams.get('token')!;
    const again = await call(server, 'POST', `/api/users/${created.body.id}/invite`, { auth: admin.auth });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      invite_sent: false,
      setup_url: expect.any(String),
      expires_at: expect.any(String),
    });
    const old = await call(server, 'POST', '/auth/password/setup', {
      body: { token: first, password: PASSWORD },
    });
    expect(old.status).toBe(400);
    const second = new URL(again.body.setup_url).searchParams.get('token')!;
    expect(
      (await call(server, 'POST', '/auth/password/setup', { body: { token: second, password: PASSWORD } }))
        .status,
    ).toBe(200);

    const service = await plainUser(server.ctx, 'viewer');
    await server.ctx.repos.users.update(service.id, { is_service: true });
    const refused = await call(server, 'POST', `/api/users/${service.id}/invite`, { auth: admin.auth });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('service_account');
    expect((await call(server, 'POST', '/api/users/nobody/invite', { auth: admin.auth })).status).toBe(404);
  });
});

describe('last-admin protection', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await withServer();
  });
  afterAll(async () => server.close());

  it('never lets the last active admin be demoted, deactivated or deleted', async () => {
    const only = await createUser(server.ctx, 'admin');
    for (const body of [{ role: 'analyst' }, { active: false }]) {
      const response = await call(server, 'PATCH', `/api/users/${only.id}`, { auth: only.auth, body });
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('last_admin');
    }
    const del = await call(server, 'DELETE', `/api/users/${only.id}`, { auth: only.auth });
    expect(del.status).toBe(409);
    expect(del.body.code).toBe('last_admin');
    // Renaming the last admin, or keeping the role, is fine.
    expect(
      (
        await call(server, 'PATCH', `/api/users/${only.id}`, {
          auth: only.auth,
          body: { name: 'Boss', role: 'admin' },
        })
      ).status,
    ).toBe(200);

    // An inactive admin does not count as a remaining admin.
    const dormant = await plainUser(server.ctx, 'admin');
    await server.ctx.repos.users.update(dormant.id, { active: false });
    expect(
      (await call(server, 'PATCH', `/api/users/${only.id}`, { auth: only.auth, body: { role: 'viewer' } }))
        .status,
    ).toBe(409);
    expect((await server.ctx.repos.users.getById(only.id))?.role).toBe('admin');
  });

  it('of two admins demoting each other at the same time, exactly one succeeds', async () => {
    const [a, b] = await Promise.all([createUser(server.ctx, 'admin'), createUser(server.ctx, 'admin')]);
    // Leave exactly these two active admins.
    for (const other of (await server.ctx.repos.users.list({ role: 'admin', active: true })).items) {
      if (other.id !== a.id && other.id !== b.id)
        await server.ctx.repos.users.update(other.id, { active: false });
    }
    const results = await Promise.all([
      call(server, 'PATCH', `/api/users/${b.id}`, { auth: a.auth, body: { role: 'analyst' } }),
      call(server, 'PATCH', `/api/users/${a.id}`, { auth: b.auth, body: { role: 'analyst' } }),
    ]);
    const statuses = results.map((r) => r.status).sort();
    // The loser is either refused as the last admin or, already demoted, no longer an admin at all.
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    expect(await server.ctx.repos.users.countActiveAdmins()).toBe(1);
  });
});

describe('invites by email', () => {
  let server: TestServer;
  let smtp: SMTPServer;
  const received: string[] = [];

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onData(stream, _session, callback) {
        let text = '';
        stream.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
        });
        stream.on('end', () => {
          received.push(text);
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const port = (smtp.server.address() as AddressInfo).port;
    server = await withServer({
      config: { email: { smtp: { host: '127.0.0.1', port, secure: false, require_starttls: false } } },
    });
  });
  afterAll(async () => {
    await server.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
  });

  it('mails the invite and returns no setup_url', async () => {
    const admin = await createUser(server.ctx, 'admin');
    const created = await call(server, 'POST', '/api/users', {
      auth: admin.auth,
      body: { email: 'mailed@example.com' },
    });
    expect(created.status).toBe(201);
    expect(created.body.invite_sent).toBe(true);
    expect(created.body).not.toHaveProperty('setup_url');
    expect(
      received.some((mail) => mail.includes('mailed@example.com') && mail.includes('/auth/password/setup')),
    ).toBe(true);
  });
});

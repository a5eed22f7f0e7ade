import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/server/auth/pat.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { plainUser } from './fixtures.js';

const DAY_MS = 86_400_000;

describe('personal access tokens (/api/tokens)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;
  let other: TestUser;

  beforeAll(async () => {
    server = await withServer({
      config: { auth: { pat: { max_per_user: 3, max_expiry_days: 30, default_expiry_days: 7 } } },
    });
    [admin, analyst, other] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'viewer'),
    ]);
  });
  afterAll(async () => server.close());

  it('creates a token shown once, which then authenticates, with the default expiry', async () => {
    const before = Date.now();
    const created = await call(server, 'POST', '/api/tokens', { auth: other.auth, body: { name: 'laptop' } });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'laptop',
      token: expect.stringMatching(/^agnes_pat_[A-Za-z0-9_-]{43}$/),
      prefix: created.body.token.slice(0, 14),
      expires_at: expect.any(String),
    });
    const expires = Date.parse(created.body.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 7 * DAY_MS - 1000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 7 * DAY_MS + 1000);
    const me = await call(server, 'GET', '/auth/me', { auth: `Bearer ${created.body.token}` });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: other.id, auth: { method: 'pat', token_id: created.body.id } });
  });

  it('lists tokens without the token or its hash', async () => {
    const created = await call(server, 'POST', '/api/tokens', {
      auth: analyst.auth,
      body: { name: 'ci', expires_in_days: 30 },
    });
    expect(created.status).toBe(201);
    const list = await call(server, 'GET', '/api/tokens', { auth: analyst.auth });
    expect(list.status).toBe(200);
    const mine = list.body.tokens.find((t: { id: string }) => t.id === created.body.id);
    expect(Object.keys(mine).sort()).toEqual(
      ['created_at', 'expires_at', 'id', 'last_used_at', 'name', 'prefix', 'revoked_at', 'user_id'].sort(),
    );
    expect(list.body.tokens.every((t: { user_id: string }) => t.user_id === analyst.id)).toBe(true);
    for (const token of [created.body.token, analyst.pat]) {
      expect(list.text).not.toContain(token);
      expect(list.text).not.toContain(sha256Hex(token));
    }
    // The audit row of the creation does not hold it either.
    const audit = await server.ctx.repos.audit.list({ action: 'pat.create', user_id: analyst.id });
    expect(audit.total).toBe(1);
    expect(JSON.stringify(audit.items)).not.toContain(created.body.token);
  });

  it('validates name and expiry against auth.pat limits, and refuses unknown fields', async () => {
    const cases = [
      { name: '' },
      { name: 'x'.repeat(101) },
      { name: 'x', expires_in_days: 0 },
      { name: 'x', expires_in_days: 31 },
      { name: 'x', expires_in_days: '5' },
      { name: 'x', scope: 'admin' },
      {},
    ];
    for (const body of cases) {
      const response = await call(server, 'POST', '/api/tokens', { auth: other.auth, body });
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(response.body.code).toBe('validation_failed');
    }
  });

  it('refuses more than auth.pat.max_per_user active tokens with 409 too_many_tokens', async () => {
    const user = await createUser(server.ctx, 'analyst'); // holds one token already
    for (const name of ['two', 'three']) {
      expect((await call(server, 'POST', '/api/tokens', { auth: user.auth, body: { name } })).status).toBe(
        201,
      );
    }
    const fourth = await call(server, 'POST', '/api/tokens', { auth: user.auth, body: { name: 'four' } });
    expect(fourth.status).toBe(409);
    expect(fourth.body.code).toBe('too_many_tokens');
    // A revoked token no longer counts.
    const [oldest] = (await call(server, 'GET', '/api/tokens', { auth: user.auth })).body.tokens.filter(
      (t: { name: string }) => t.name === 'two',
    );
    expect((await call(server, 'DELETE', `/api/tokens/${oldest.id}`, { auth: user.auth })).status).toBe(204);
    expect(
      (await call(server, 'POST', '/api/tokens', { auth: user.auth, body: { name: 'four' } })).status,
    ).toBe(201);
  });

  it('lets admins create tokens for service accounts only, and list any user’s tokens', async () => {
    const service = await plainUser(server.ctx, 'viewer');
    await server.ctx.repos.users.update(service.id, { is_service: true });
    const person = await plainUser(server.ctx, 'analyst');

    const forService = await call(server, 'POST', '/api/tokens', {
      auth: admin.auth,
      body: { name: 'bot', user_id: service.id },
    });
    expect(forService.status).toBe(201);
    const me = await call(server, 'GET', '/auth/me', { auth: `Bearer ${forService.body.token}` });
    expect(me.body).toMatchObject({ id: service.id, is_service: true });

    const forPerson = await call(server, 'POST', '/api/tokens', {
      auth: admin.auth,
      body: { name: 'x', user_id: person.id },
    });
    expect(forPerson.status).toBe(403);
    const unknown = await call(server, 'POST', '/api/tokens', {
      auth: admin.auth,
      body: { name: 'x', user_id: 'no-such-user' },
    });
    expect(unknown.status).toBe(404);
    const byAnalyst = await call(server, 'POST', '/api/tokens', {
      auth: analyst.auth,
      body: { name: 'x', user_id: service.id },
    });
    expect(byAnalyst.status).toBe(403);

    const selfMinted = await call(server, 'POST', '/api/tokens', {
      auth: `Bearer ${forService.body.token}`,
      body: { name: 'more' },
    });
    expect(selfMinted.status).toBe(403);

    const listed = await call(server, 'GET', `/api/tokens?user_id=${service.id}`, { auth: admin.auth });
    expect(listed.status).toBe(200);
    expect(listed.body.tokens.map((t: { id: string }) => t.id)).toEqual([forService.body.id]);
    expect(
      (await call(server, 'GET', `/api/tokens?user_id=${service.id}`, { auth: analyst.auth })).status,
    ).toBe(403);
    expect((await call(server, 'GET', '/api/tokens?user_id=nobody', { auth: admin.auth })).status).toBe(404);
    expect(
      (await call(server, 'GET', `/api/tokens?user_id=${analyst.id}`, { auth: analyst.auth })).status,
    ).toBe(200);
  });

  it('revokes own tokens; someone else’s is a 404 and keeps working; admins may revoke any', async () => {
    const owner = await createUser(server.ctx, 'analyst');
    const created = await call(server, 'POST', '/api/tokens', { auth: owner.auth, body: { name: 'temp' } });
    const token = `Bearer ${created.body.token}`;

    const foreign = await call(server, 'DELETE', `/api/tokens/${created.body.id}`, { auth: analyst.auth });
    expect(foreign.status).toBe(404);
    expect((await call(server, 'GET', '/auth/me', { auth: token })).status).toBe(200);
    expect((await call(server, 'DELETE', '/api/tokens/not-a-token', { auth: owner.auth })).status).toBe(404);

    expect(
      (await call(server, 'DELETE', `/api/tokens/${created.body.id}`, { auth: owner.auth })).status,
    ).toBe(204);
    expect((await call(server, 'GET', '/auth/me', { auth: token })).status).toBe(401);
    const listed = await call(server, 'GET', '/api/tokens', { auth: owner.auth });
    expect(listed.body.tokens.find((t: { id: string }) => t.id === created.body.id).revoked_at).toEqual(
      expect.any(String),
    );

    const byAdmin = await call(
      server,
      'DELETE',
      `/api/tokens/${(await server.ctx.repos.tokens.listByUser(owner.id)).find((t) => !t.revoked_at)!.id}`,
      {
        auth: admin.auth,
      },
    );
    expect(byAdmin.status).toBe(204);
    expect((await call(server, 'GET', '/auth/me', { auth: owner.auth })).status).toBe(401);
  });

  it('needs a credential', async () => {
    const list = await call(server, 'GET', '/api/tokens');
    expect(list.status).toBe(401);
    expect(list.headers.get('www-authenticate')).toBe('Bearer');
    expect((await call(server, 'POST', '/api/tokens', { body: { name: 'x' } })).status).toBe(401);
  });
});

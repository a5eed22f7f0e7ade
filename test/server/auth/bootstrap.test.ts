import { afterEach, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, withServer } from '../../support/server.js';
import { expectErrorBody } from './helpers.js';

/** R9 and the bootstrap rules of 04 §1.6. */

const PASSWORD = 'a-long-unusual-passphrase';

describe('POST /auth/bootstrap', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function admins(s: TestServer) {
    return s.ctx.db.selectFrom('users').select(['email', 'role']).execute();
  }

  it('R9: of 10 parallel calls exactly one creates the admin, the others get 403 bootstrap_disabled', async () => {
    server = await withServer({
      config: { auth: { rate_limits: { bootstrap: { max: 100, window_seconds: 60 } } } },
    });
    const s = server;
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(s, 'POST', '/auth/bootstrap', { body: { email: `admin-${i}@example.com`, password: PASSWORD } }),
      ),
    );
    const ok = replies.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(ok[0]!.body).toMatchObject({ token_type: 'bearer', role: 'admin' });
    const refused = replies.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(9);
    for (const reply of refused) expectErrorBody(reply, 403, 'bootstrap_disabled');
    const users = await admins(s);
    expect(users).toEqual([{ email: ok[0]!.body.email, role: 'admin' }]);
    // The winner's token works.
    const me = await call(s, 'GET', '/auth/me', { auth: `Bearer ${ok[0]!.body.access_token}` });
    expect(me.body).toMatchObject({ role: 'admin', email: ok[0]!.body.email });
  });

  it('R9 with the default limit (3/min): one 200, the rest 403 or 429 with Retry-After', async () => {
    server = await withServer();
    const s = server;
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(s, 'POST', '/auth/bootstrap', { body: { email: `admin-${i}@example.com`, password: PASSWORD } }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((st) => st === 200)).toHaveLength(1);
    expect(statuses.filter((st) => st === 403)).toHaveLength(2);
    expect(statuses.filter((st) => st === 429)).toHaveLength(7);
    for (const reply of replies.filter((r) => r.status === 403))
      expectErrorBody(reply, 403, 'bootstrap_disabled');
    for (const reply of replies.filter((r) => r.status === 429)) {
      expectErrorBody(reply, 429, 'rate_limited');
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(await admins(s)).toHaveLength(1);
  });

  it('is disabled once any user exists, even a non-admin created by the operator', async () => {
    server = await withServer();
    await createUser(server.ctx, 'viewer');
    const reply = await call(server, 'POST', '/auth/bootstrap', {
      body: { email: 'late@example.com', password: PASSWORD },
    });
    expectErrorBody(reply, 403, 'bootstrap_disabled');
    expect(await server.ctx.repos.users.getByEmail('late@example.com')).toBeUndefined();
  });

  it('requires the configured bootstrap token: missing or wrong → 401, right → 200', async () => {
    const token = 'bootstrap-token-0123456789-abcdefghij';
    server = await withServer({
      config: {
        auth: { bootstrap_token: token, rate_limits: { bootstrap: { max: 100, window_seconds: 60 } } },
      },
    });
    const body = { email: 'root@example.com', password: PASSWORD };
    const missing = await call(server, 'POST', '/auth/bootstrap', { body });
    expectErrorBody(missing, 401, 'invalid_bootstrap_token');
    const wrong = await call(server, 'POST', '/auth/bootstrap', {
      body: { ...body, bootstrap_token: `${token.slice(0, -1)}X` },
    });
    expectErrorBody(wrong, 401, 'invalid_bootstrap_token');
    const prefix = await call(server, 'POST', '/auth/bootstrap', {
      body: { ...body, bootstrap_token: token.slice(0, 10) },
    });
    expectErrorBody(prefix, 401, 'invalid_bootstrap_token');
    expect(await server.ctx.repos.users.count()).toBe(0);
    const right = await call(server, 'POST', '/auth/bootstrap', {
      body: { ...body, bootstrap_token: token },
    });
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ email: 'root@example.com', role: 'admin' });
  });

  it('takes the bootstrap token from AGNES_BOOTSTRAP_TOKEN', async () => {
    server = await withServer({ env: { AGNES_BOOTSTRAP_TOKEN: 'env-bootstrap-token-0123456789' } });
    const body = { email: 'root@example.com', password: PASSWORD };
    expectErrorBody(await call(server, 'POST', '/auth/bootstrap', { body }), 401, 'invalid_bootstrap_token');
    const right = await call(server, 'POST', '/auth/bootstrap', {
      body: { ...body, bootstrap_token: 'env-bootstrap-token-0123456789' },
    });
    expect(right.status).toBe(200);
  });

  it.each([
    ['too short', 'short-pw', 'at least 10 characters'],
    ['the email address', 'root@example.com', 'email'],
    ['the email address in another case', 'ROOT@example.COM', 'email'],
    ['one repeated character', 'aaaaaaaaaaaaaaaa', 'repeated'],
    ['a common password (qwertyuiop)', 'qwertyuiop', 'common'],
    ['a common password (1234567890)', '1234567890', 'common'],
    ['a common password in capitals (PASSWORD123)', 'PASSWORD123', 'common'],
    ['longer than 256 characters', 'x1'.repeat(129), '256'],
  ])('refuses a password that is %s with 422 naming the rule', async (_name, password, rule) => {
    server = await withServer();
    const reply = await call(server, 'POST', '/auth/bootstrap', {
      body: { email: 'root@example.com', password },
    });
    expect(reply.status).toBe(422);
    expect(reply.body.code).toMatch(/^(password_policy|validation_failed)$/);
    expect(JSON.stringify([reply.body.detail, reply.body.errors ?? []])).toContain(rule);
    expect(reply.text).not.toContain(password);
    expect(await server.ctx.repos.users.count()).toBe(0);
  });

  it('requires a password and a valid email (no password-less admin)', async () => {
    server = await withServer();
    const noPassword = await call(server, 'POST', '/auth/bootstrap', { body: { email: 'root@example.com' } });
    expectErrorBody(noPassword, 422, 'validation_failed');
    expect(noPassword.body.errors).toContainEqual({ path: '/body/password', message: 'is required' });
    const emptyPassword = await call(server, 'POST', '/auth/bootstrap', {
      body: { email: 'root@example.com', password: '' },
    });
    expectErrorBody(emptyPassword, 422);
    const badEmail = await call(server, 'POST', '/auth/bootstrap', {
      body: { email: 'not-an-email', password: PASSWORD },
    });
    expectErrorBody(badEmail, 422, 'validation_failed');
    const extra = await call(server, 'POST', '/auth/bootstrap', {
      body: { email: 'root@example.com', password: PASSWORD, role: 'viewer' },
    });
    expectErrorBody(extra, 422, 'validation_failed');
    expect(await server.ctx.repos.users.count()).toBe(0);
  });

  it('stores the email lower-cased and an Argon2id hash, never the password', async () => {
    server = await withServer();
    const ok = await call(server, 'POST', '/auth/bootstrap', {
      body: { email: 'Root@Example.COM', password: PASSWORD, name: 'Root' },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.email).toBe('root@example.com');
    const row = await server.ctx.repos.users.getByEmail('root@example.com');
    expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row?.password_hash).not.toContain(PASSWORD);
    expect(row?.name).toBe('Root');
  });
});

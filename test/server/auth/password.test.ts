import { randomBytes } from 'node:crypto';
import { type Algorithm, hash as argon2 } from '@node-rs/argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/server/auth/pat.js';
import {
  call,
  createUser,
  TEST_JWT_SECRET,
  type TestServer,
  type TestUser,
  withServer,
} from '../../support/server.js';
import {
  cookieHeader,
  csrfToken,
  expectErrorBody,
  expectUnauthorized,
  locationOf,
  loginJwt,
  mintJwt,
  type Reply,
  sessionClaims,
  setCookie,
} from './helpers.js';

/** Password sign-in, change, and the setup/reset links (04 §1.2, §1.7; 03 §1). */

const JWT_TTL_HOURS = 2;
const NEW_PASSWORD = 'a-brand-new-passphrase-42';

/** Lifts the per-IP limits, which browser-facing tests cover, so this file can make many calls. */
const CONFIG = {
  auth: {
    jwt_ttl_hours: JWT_TTL_HOURS,
    rate_limits: { login: { max: 1000, window_seconds: 60 }, verify: { max: 1000, window_seconds: 60 } },
  },
};

const bearer = (token: string) => `Bearer ${token}`;

/** What a caller can observe of a refusal, minus the per-request id. */
function observable(reply: Reply) {
  return {
    status: reply.status,
    detail: reply.body?.detail,
    code: reply.body?.code,
    keys: Object.keys(reply.body ?? {}).sort(),
    contentType: reply.headers.get('content-type'),
    wwwAuthenticate: reply.headers.get('www-authenticate'),
    setCookie: reply.headers.getSetCookie().length,
  };
}

/** Issues an invite or reset link the way the app does: only the SHA-256 of the token is stored. */
async function issueLink(
  server: TestServer,
  userId: string,
  kind: 'setup' | 'reset',
  createdAt = new Date(),
): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await server.ctx.repos.users.update(
    userId,
    kind === 'setup'
      ? { setup_token: sha256Hex(token), setup_token_created: createdAt.toISOString() }
      : { reset_token: sha256Hex(token), reset_token_created: createdAt.toISOString() },
  );
  return token;
}

/** The session cookie of a form sign-in: HttpOnly, Lax, Path=/, Max-Age = JWT lifetime (04 §3). */
function expectSessionCookie(reply: Reply): string {
  const cookie = setCookie(reply.headers, 'access_token');
  expect(cookie?.value).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
  expect(cookie!.attributes.has('httponly')).toBe(true);
  expect(cookie!.attributes.get('samesite')?.toLowerCase()).toBe('lax');
  expect(cookie!.attributes.get('path')).toBe('/');
  expect(cookie!.attributes.get('max-age')).toBe(String(JWT_TTL_HOURS * 3600));
  expect(cookie!.attributes.has('secure')).toBe(false); // http public_url
  return cookie!.value;
}

describe('password sign-in', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await withServer({ config: CONFIG });
  });
  afterAll(async () => server.close());

  it('answers the same 401 for unknown email, wrong password, no password, inactive and service accounts', async () => {
    const normal = await createUser(server.ctx, 'analyst');
    const inactive = await createUser(server.ctx, 'analyst', { active: false });
    const service = await createUser(server.ctx, 'admin', { service: true });
    const passwordless = await server.ctx.repos.users.create({ email: `nopass-${Date.now()}@example.com` });
    const attempts = [
      { email: `ghost-${Date.now()}@example.com`, password: 'whatever-password-1' },
      { email: normal.email, password: 'wrong-password-1234' },
      { email: passwordless.email, password: 'whatever-password-1' },
      { email: passwordless.email, password: '' },
      { email: inactive.email, password: inactive.password },
      { email: service.email, password: service.password },
    ];
    for (const path of ['/auth/token', '/auth/password/login']) {
      const replies: Reply[] = [];
      for (const body of attempts) replies.push(await call(server, 'POST', path, { body }));
      // The empty password fails schema validation (422), before any account lookup.
      const [emptyPassword] = replies.splice(3, 1);
      expectErrorBody(emptyPassword!, 422, 'validation_failed');
      for (const reply of replies) {
        expectUnauthorized(reply);
        expect(reply.body.code).toBe('invalid_credentials');
      }
      const shapes = replies.map((r) => JSON.stringify(observable(r)));
      expect(new Set(shapes).size).toBe(1);
    }
    // The right password of the active account works (control).
    expect(
      (
        await call(server, 'POST', '/auth/token', {
          body: { email: normal.email, password: normal.password },
        })
      ).status,
    ).toBe(200);
  });

  it('answers the form login of every failing account with the same redirect', async () => {
    const inactive = await createUser(server.ctx, 'analyst', { active: false });
    const service = await createUser(server.ctx, 'admin', { service: true });
    const csrf = await csrfToken(server);
    const headers = { cookie: cookieHeader({ agnes_csrf: csrf }) };
    const locations = new Set<string>();
    for (const [email, password] of [
      [`ghost-${Date.now()}@example.com`, 'whatever-password-1'],
      [inactive.email, inactive.password],
      [service.email, service.password],
    ] as const) {
      const reply = await call(server, 'POST', '/auth/password/login', {
        form: { email, password, _csrf: csrf },
        headers,
      });
      expect(reply.status).toBe(303);
      expect(setCookie(reply.headers, 'access_token')).toBeUndefined();
      locations.add(locationOf(reply));
    }
    expect([...locations]).toEqual(['/login?error=invalid_credentials']);
  });

  it('JSON login returns a TokenResponse and sets no cookie; the form login sets the session cookie', async () => {
    const user = await createUser(server.ctx, 'viewer');
    const json = await call(server, 'POST', '/auth/password/login', {
      body: { email: user.email.toUpperCase(), password: user.password },
    });
    expect(json.status).toBe(200);
    expect(json.body).toMatchObject({
      token_type: 'bearer',
      expires_in: JWT_TTL_HOURS * 3600,
      user_id: user.id,
      email: user.email,
      role: 'viewer',
    });
    expect(Date.parse(json.body.expires_at)).toBeGreaterThan(Date.now());
    expect(json.headers.getSetCookie()).toEqual([]);
    expect(json.headers.get('cache-control')).toBe('no-store');

    const csrf = await csrfToken(server);
    const form = await call(server, 'POST', '/auth/password/login', {
      form: { email: user.email, password: user.password, _csrf: csrf },
      headers: { cookie: cookieHeader({ agnes_csrf: csrf }) },
    });
    expect(form.status).toBe(303);
    expect(locationOf(form)).toBe('/dashboard');
    const session = expectSessionCookie(form);
    const me = await call(server, 'GET', '/auth/me', {
      headers: { cookie: cookieHeader({ access_token: session }) },
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, auth: { method: 'jwt', via: 'cookie' } });
  });

  it('re-hashes a password stored with weaker Argon2 parameters after a successful login', async () => {
    const password = 'old-parameters-passphrase-1';
    const weak = await argon2(password, {
      algorithm: 2 as Algorithm,
      memoryCost: 4096,
      timeCost: 1,
      parallelism: 1,
    });
    const user = await server.ctx.repos.users.create({
      email: `weak-${Date.now()}@example.com`,
      password_hash: weak,
    });
    // A failed attempt changes nothing.
    expectUnauthorized(
      await call(server, 'POST', '/auth/token', {
        body: { email: user.email, password: 'wrong-password-1' },
      }),
    );
    expect((await server.ctx.repos.users.getById(user.id))?.password_hash).toBe(weak);
    await loginJwt(server, { email: user.email, password });
    const rehashed = (await server.ctx.repos.users.getById(user.id))?.password_hash;
    expect(rehashed).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await loginJwt(server, { email: user.email, password });
  });

  it('refuses every password login when auth.password.enabled is false', async () => {
    const off = await withServer({ config: { auth: { password: { enabled: false } } } });
    try {
      const user = await createUser(off.ctx, 'admin');
      const reply = await call(off, 'POST', '/auth/token', {
        body: { email: user.email, password: user.password },
      });
      expectUnauthorized(reply);
      expect(reply.body.code).toBe('invalid_credentials');
      // PATs still work.
      expect((await call(off, 'GET', '/auth/me', { auth: user.auth })).status).toBe(200);
    } finally {
      await off.close();
    }
  });

  it('locks an email after 5 failures (429 with Retry-After, even for the right password); other emails go on', async () => {
    const target = await createUser(server.ctx, 'analyst');
    const other = await createUser(server.ctx, 'analyst');
    for (let i = 0; i < 5; i += 1) {
      // Case and blanks do not make a different address.
      const email = i % 2 === 0 ? target.email : target.email.toUpperCase();
      const reply = await call(server, 'POST', '/auth/token', {
        body: { email, password: `wrong-password-${i}` },
      });
      expectUnauthorized(reply);
    }
    const locked = await call(server, 'POST', '/auth/token', {
      body: { email: target.email, password: target.password },
    });
    expectErrorBody(locked, 429, 'rate_limited');
    expect(locked.body.detail).toBe('too many requests');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(locked.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60);
    // The form route shares the per-email counter.
    const viaForm = await call(server, 'POST', '/auth/password/login', {
      body: { email: target.email, password: target.password },
    });
    expect(viaForm.status).toBe(429);
    // Another address from the same client is unaffected.
    const wrongOther = await call(server, 'POST', '/auth/token', {
      body: { email: other.email, password: 'wrong-password-x' },
    });
    expectUnauthorized(wrongOther);
    expect(
      (await call(server, 'POST', '/auth/token', { body: { email: other.email, password: other.password } }))
        .status,
    ).toBe(200);
  });
});

describe('password change', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await withServer({ config: CONFIG });
  });
  afterAll(async () => server.close());

  const change = (token: string, body: Record<string, unknown>) =>
    call(server, 'POST', '/auth/password/change', { auth: bearer(token), body });

  it('refuses a wrong current password with 401 invalid_credentials', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const token = await loginJwt(server, user);
    const reply = await change(token, { current_password: 'not-the-password-1', new_password: NEW_PASSWORD });
    expectUnauthorized(reply);
    expect(reply.body.code).toBe('invalid_credentials');
    expect((await call(server, 'GET', '/auth/me', { auth: bearer(token) })).status).toBe(200);
  });

  it('answers 400 no_password for an account without a password', async () => {
    const user = await server.ctx.repos.users.create({ email: `google-${Date.now()}@example.com` });
    const token = await mintJwt(sessionClaims(user.id), TEST_JWT_SECRET);
    const reply = await change(token, { current_password: 'anything-at-all', new_password: NEW_PASSWORD });
    expectErrorBody(reply, 400, 'no_password');
    expect((await server.ctx.repos.users.getById(user.id))?.password_hash).toBeNull();
  });

  it.each([
    ['too short', 'short1'],
    ['common', 'qwertyuiop'],
    ['one repeated character', 'zzzzzzzzzzzz'],
  ])('refuses a new password that is %s with 422 password_policy', async (_name, newPassword) => {
    const user = await createUser(server.ctx, 'analyst');
    const token = await loginJwt(server, user);
    const reply = await change(token, { current_password: user.password, new_password: newPassword });
    expectErrorBody(reply, 422, 'password_policy');
    // Nothing changed: the old password and session still work.
    expect((await call(server, 'GET', '/auth/me', { auth: bearer(token) })).status).toBe(200);
    await loginJwt(server, user);
  });

  it('refuses the email as the new password', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const token = await loginJwt(server, user);
    const reply = await change(token, { current_password: user.password, new_password: user.email });
    expectErrorBody(reply, 422, 'password_policy');
    expect(reply.body.detail).toContain('email');
  });

  it('on success ends every other session, returns a working token, and swaps the passwords', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const current = await loginJwt(server, user);
    const other = await loginJwt(server, user);
    const reply = await change(current, { current_password: user.password, new_password: NEW_PASSWORD });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ token_type: 'bearer', user_id: user.id, email: user.email });
    expect(reply.headers.getSetCookie()).toEqual([]); // Bearer-authenticated: no cookie
    expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(current) }));
    expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(other) }));
    expect((await call(server, 'GET', '/auth/me', { auth: bearer(reply.body.access_token) })).status).toBe(
      200,
    );
    expectUnauthorized(
      await call(server, 'POST', '/auth/token', { body: { email: user.email, password: user.password } }),
    );
    const fresh = await loginJwt(server, { email: user.email, password: NEW_PASSWORD });
    expect((await call(server, 'GET', '/auth/me', { auth: bearer(fresh) })).status).toBe(200);
  });

  it('needs authentication', async () => {
    const reply = await call(server, 'POST', '/auth/password/change', {
      body: { current_password: 'x', new_password: NEW_PASSWORD },
    });
    expectUnauthorized(reply);
  });
});

describe('setup and reset links', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await withServer({ config: CONFIG });
  });
  afterAll(async () => server.close());

  const invitee = async (): Promise<TestUser> => {
    const user = await server.ctx.repos.users.create({
      email: `invitee-${randomBytes(4).toString('hex')}@example.com`,
    });
    return { id: user.id, email: user.email, password: '', role: 'analyst', pat: '', auth: '' };
  };

  it('setup: sets the password, signs in, clears the token; the returned token works at once', async () => {
    const user = await invitee();
    const token = await issueLink(server, user.id, 'setup');
    const reply = await call(server, 'POST', '/auth/password/setup', {
      body: { token, password: NEW_PASSWORD },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ token_type: 'bearer', user_id: user.id, email: user.email });
    const me = await call(server, 'GET', '/auth/me', { auth: bearer(reply.body.access_token) });
    expect(me.status).toBe(200);
    const row = await server.ctx.repos.users.getById(user.id);
    expect(row?.setup_token).toBeNull();
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);
    await loginJwt(server, { email: user.email, password: NEW_PASSWORD });
  });

  it('setup: single use, expiry, email mismatch, unknown and malformed tokens all give one 400 invalid_token', async () => {
    const used = await invitee();
    const usedToken = await issueLink(server, used.id, 'setup');
    expect(
      (
        await call(server, 'POST', '/auth/password/setup', {
          body: { token: usedToken, password: NEW_PASSWORD },
        })
      ).status,
    ).toBe(200);

    const expired = await invitee();
    const expiredToken = await issueLink(server, expired.id, 'setup', new Date(Date.now() - 73 * 3_600_000));

    const mismatch = await invitee();
    const mismatchToken = await issueLink(server, mismatch.id, 'setup');

    const inactive = await invitee();
    const inactiveToken = await issueLink(server, inactive.id, 'setup');
    await server.ctx.repos.users.update(inactive.id, { active: false });

    const resetKind = await invitee();
    const resetToken = await issueLink(server, resetKind.id, 'reset');

    const failures = [
      { token: usedToken, password: 'another-passphrase-77' },
      { token: expiredToken, password: NEW_PASSWORD },
      { token: mismatchToken, password: NEW_PASSWORD, email: 'someone-else@example.com' },
      { token: inactiveToken, password: NEW_PASSWORD },
      { token: resetToken, password: NEW_PASSWORD },
      { token: randomBytes(32).toString('base64url'), password: NEW_PASSWORD },
      { token: 'short', password: NEW_PASSWORD },
    ];
    const replies: Reply[] = [];
    for (const body of failures) replies.push(await call(server, 'POST', '/auth/password/setup', { body }));
    for (const reply of replies) expectErrorBody(reply, 400, 'invalid_token');
    expect(new Set(replies.map((r) => JSON.stringify(observable(r)))).size).toBe(1);

    // None of them changed a password; the mismatched link still works with the right email.
    expect((await server.ctx.repos.users.getById(expired.id))?.password_hash).toBeNull();
    const right = await call(server, 'POST', '/auth/password/setup', {
      body: { token: mismatchToken, password: NEW_PASSWORD, email: mismatch.email.toUpperCase() },
    });
    expect(right.status).toBe(200);
  });

  it('setup: a link just inside its lifetime (72 h) still works', async () => {
    const user = await invitee();
    const token = await issueLink(server, user.id, 'setup', new Date(Date.now() - 71 * 3_600_000));
    expect(
      (await call(server, 'POST', '/auth/password/setup', { body: { token, password: NEW_PASSWORD } }))
        .status,
    ).toBe(200);
  });

  it('setup: a password-policy failure is 422 and leaves the link usable', async () => {
    const user = await invitee();
    const token = await issueLink(server, user.id, 'setup');
    const weak = await call(server, 'POST', '/auth/password/setup', {
      body: { token, password: '1234567890' },
    });
    expectErrorBody(weak, 422, 'password_policy');
    expect(
      (await call(server, 'POST', '/auth/password/setup', { body: { token, password: NEW_PASSWORD } }))
        .status,
    ).toBe(200);
  });

  it('setup as a form: 303 to /dashboard with the session cookie; failures go back to the form', async () => {
    const user = await invitee();
    const token = await issueLink(server, user.id, 'setup');
    const csrf = await csrfToken(server);
    const headers = { cookie: cookieHeader({ agnes_csrf: csrf }) };
    const noCsrf = await call(server, 'POST', '/auth/password/setup', {
      form: { token, password: NEW_PASSWORD },
      headers,
    });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.text).toContain('csrf_failed');
    const ok = await call(server, 'POST', '/auth/password/setup', {
      form: { token, password: NEW_PASSWORD, _csrf: csrf },
      headers,
    });
    expect(ok.status).toBe(303);
    expect(locationOf(ok)).toBe('/dashboard');
    const session = expectSessionCookie(ok);
    const me = await call(server, 'GET', '/auth/me', {
      headers: { cookie: cookieHeader({ access_token: session }) },
    });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(user.id);
    const again = await call(server, 'POST', '/auth/password/setup', {
      form: { token, password: NEW_PASSWORD, _csrf: csrf },
      headers,
    });
    expect(again.status).toBe(303);
    expect(locationOf(again)).toBe('/auth/password/setup?error=invalid_token');
    expect(setCookie(again.headers, 'access_token')).toBeUndefined();
  });

  it('reset: sets the password, ends old sessions; a new login works at once; single use', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const old = await loginJwt(server, user);
    const token = await issueLink(server, user.id, 'reset');
    const reply = await call(server, 'POST', '/auth/password/reset', {
      body: { token, password: NEW_PASSWORD },
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ message: expect.any(String) });
    expect(reply.headers.getSetCookie()).toEqual([]);
    expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(old) }));
    expectUnauthorized(
      await call(server, 'POST', '/auth/token', { body: { email: user.email, password: user.password } }),
    );
    const fresh = await loginJwt(server, { email: user.email, password: NEW_PASSWORD });
    expect((await call(server, 'GET', '/auth/me', { auth: bearer(fresh) })).status).toBe(200);
    const again = await call(server, 'POST', '/auth/password/reset', {
      body: { token, password: 'third-passphrase-99' },
    });
    expectErrorBody(again, 400, 'invalid_token');
    expect((await server.ctx.repos.users.getById(user.id))?.reset_token).toBeNull();
  });

  it('reset: expires after auth.reset_ttl_minutes (30); a setup token is not a reset token', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const expired = await issueLink(server, user.id, 'reset', new Date(Date.now() - 31 * 60_000));
    const late = await call(server, 'POST', '/auth/password/reset', {
      body: { token: expired, password: NEW_PASSWORD },
    });
    expectErrorBody(late, 400, 'invalid_token');
    const setup = await issueLink(server, user.id, 'setup');
    const wrongKind = await call(server, 'POST', '/auth/password/reset', {
      body: { token: setup, password: NEW_PASSWORD },
    });
    expectErrorBody(wrongKind, 400, 'invalid_token');
    expect(late.body.detail).toBe(wrongKind.body.detail);
    // The old password still works: nothing was changed.
    await loginJwt(server, user);
  });

  it('reset as a form: 303 to /login?reset=ok and no session cookie', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const token = await issueLink(server, user.id, 'reset');
    const csrf = await csrfToken(server);
    const reply = await call(server, 'POST', '/auth/password/reset', {
      form: { token, password: NEW_PASSWORD, _csrf: csrf },
      headers: { cookie: cookieHeader({ agnes_csrf: csrf }) },
    });
    expect(reply.status).toBe(303);
    expect(locationOf(reply)).toBe('/login?reset=ok');
    expect(setCookie(reply.headers, 'access_token')).toBeUndefined();
    await loginJwt(server, { email: user.email, password: NEW_PASSWORD });
  });

  it('the landing pages consume nothing and are never cached', async () => {
    const user = await invitee();
    const token = await issueLink(server, user.id, 'setup');
    const page = await call(server, 'GET', `/auth/password/setup?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.text).toContain(`value="${token}"`);
    expect((await server.ctx.repos.users.getById(user.id))?.setup_token).toBe(sha256Hex(token));
  });
});

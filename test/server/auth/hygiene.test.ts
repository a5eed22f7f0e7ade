import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/server/auth/pat.js';
import { type FakeSmtp, startFakeSmtp } from '../../fakes/smtp.js';
import {
  call,
  createUser,
  TEST_JWT_SECRET,
  type TestServer,
  type TestUser,
  withServer,
} from '../../support/server.js';
import { cookieHeader, expectErrorBody, locationOf, type Reply, setCookie } from './helpers.js';

/** S10 (error hygiene on every auth route) and S11 (no secrets in logs), plus the audit trail of 04 §8. */

const BODY_LIMIT = 4096;
const SMTP_PASSWORD = 'smtp-pw-seeded-secret-123';
const BOOTSTRAP_TOKEN = 'bootstrap-seeded-secret-456';

/** Every POST route of the auth routers (src/server/api/auth/), with a body its schema accepts. */
const POST_ROUTES: { path: string; auth: boolean; body: Record<string, unknown> }[] = [
  { path: '/auth/token', auth: false, body: { email: 'a@example.com', password: 'some-password-1' } },
  {
    path: '/auth/password/login',
    auth: false,
    body: { email: 'a@example.com', password: 'some-password-1' },
  },
  { path: '/auth/bootstrap', auth: false, body: { email: 'a@example.com', password: 'some-password-1' } },
  {
    path: '/auth/password/change',
    auth: true,
    body: { current_password: 'some-password-1', new_password: 'other-password-2' },
  },
  { path: '/auth/password/setup', auth: false, body: { token: 'x'.repeat(43), password: 'some-password-1' } },
  { path: '/auth/password/reset', auth: false, body: { token: 'x'.repeat(43), password: 'some-password-1' } },
  { path: '/auth/password/reset-request', auth: false, body: { email: 'a@example.com' } },
  { path: '/auth/email/send-link', auth: false, body: { email: 'a@example.com' } },
  { path: '/auth/email/verify', auth: false, body: { token: 'x'.repeat(43) } },
  { path: '/auth/logout', auth: true, body: { all: false } },
];

/** Wrong types for each field of a route's body. */
function wrongTypes(body: Record<string, unknown>): Record<string, unknown>[] {
  return Object.keys(body).flatMap((key) => [
    { ...body, [key]: 12345 },
    { ...body, [key]: { nested: 'object' } },
    { ...body, [key]: ['array'] },
    { ...body, [key]: null },
  ]);
}

describe('error hygiene on the auth routes (S10)', () => {
  let server: TestServer;
  let user: TestUser;
  beforeAll(async () => {
    server = await withServer({
      config: {
        server: { body_limit_bytes: BODY_LIMIT },
        auth: {
          rate_limits: Object.fromEntries(
            ['login', 'mail', 'verify', 'bootstrap'].map((name) => [
              name,
              { max: 10_000, window_seconds: 60 },
            ]),
          ),
        },
      },
    });
    user = await createUser(server.ctx, 'analyst');
  });
  afterAll(async () => server.close());

  /** A 4xx in the error format that reveals nothing of the server. */
  function expectHygienic(reply: Reply, label: string): void {
    expect(reply.status, label).toBeGreaterThanOrEqual(400);
    expect(reply.status, label).toBeLessThan(500);
    expect(reply.headers.get('content-type'), label).toContain('application/json');
    expect(reply.body, label).toMatchObject({ detail: expect.any(String), code: expect.any(String) });
    expect(reply.body.request_id, label).toBe(reply.headers.get('x-request-id'));
    expect(reply.body.detail.length, label).toBeLessThan(200);
    for (const leak of [
      server.dataDir,
      'node_modules',
      '/src/',
      'at Object.',
      '    at ',
      'stack',
      TEST_JWT_SECRET,
    ]) {
      expect(reply.text, `${label} leaks ${leak}`).not.toContain(leak);
    }
  }

  /** A POST with a raw body (the `call` helper only sends JSON or forms), parsed the same way. */
  async function raw(
    path: string,
    options: { contentType?: string; body?: string; auth?: boolean },
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (options.contentType) headers['content-type'] = options.contentType;
    if (options.auth) headers.authorization = user.auth;
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers,
      body: options.body,
      redirect: 'manual',
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: response.status, headers: response.headers, body, text };
  }

  it.each(POST_ROUTES)('$path: malformed JSON, wrong content types and oversized bodies', async (route) => {
    const cases: [string, Parameters<typeof raw>[1], number][] = [
      ['truncated JSON', { contentType: 'application/json', body: '{"email":' }, 400],
      ['not JSON at all', { contentType: 'application/json', body: 'email=a@example.com' }, 400],
      ['an empty JSON body', { contentType: 'application/json', body: '' }, 400],
      ['a __proto__ key', { contentType: 'application/json', body: '{"__proto__":{"role":"admin"}}' }, 400],
      [
        'a constructor.prototype key',
        { contentType: 'application/json', body: '{"constructor":{"prototype":{"x":1}}}' },
        400,
      ],
      ['text/plain', { contentType: 'text/plain', body: JSON.stringify(route.body) }, 415],
      ['application/xml', { contentType: 'application/xml', body: '<a/>' }, 415],
      ['multipart', { contentType: 'multipart/form-data; boundary=x', body: '--x--' }, 415],
      [
        'a body over server.body_limit_bytes',
        {
          contentType: 'application/json',
          body: JSON.stringify({ ...route.body, pad: 'x'.repeat(BODY_LIMIT * 2) }),
        },
        413,
      ],
      [
        'a form over the form limit',
        { contentType: 'application/x-www-form-urlencoded', body: `pad=${'x'.repeat(70 * 1024)}` },
        413,
      ],
      ['JSON null', { contentType: 'application/json', body: 'null' }, 422],
      ['a JSON array', { contentType: 'application/json', body: '[]' }, 422],
      ['a JSON string', { contentType: 'application/json', body: '"text"' }, 422],
    ];
    for (const [label, options, status] of cases) {
      const reply = await raw(route.path, { ...options, auth: route.auth });
      expectHygienic(reply, `${route.path} with ${label}`);
      expect(reply.status, `${route.path} with ${label}`).toBe(status);
    }
  });

  it.each(POST_ROUTES)('$path: wrong types, unknown fields and oversized strings give 422', async (route) => {
    const auth = route.auth ? user.auth : undefined;
    const bodies = [
      ...wrongTypes(route.body),
      { ...route.body, role: 'admin' },
      { ...route.body, is_admin: true, user_id: user.id },
      ...Object.keys(route.body).map((key) => ({ ...route.body, [key]: 'y'.repeat(3000) })),
    ];
    for (const body of bodies) {
      const reply = await call(server, 'POST', route.path, { auth, body });
      const label = `${route.path} with ${JSON.stringify(body).slice(0, 80)}`;
      expectHygienic(reply, label);
      expect(reply.status, label).toBe(422);
      expect(reply.body.errors, label).toEqual(
        expect.arrayContaining([{ path: expect.any(String), message: expect.any(String) }]),
      );
      // Validation messages describe the rule, never the rejected value.
      expect(reply.text, label).not.toContain('y'.repeat(50));
    }
  });

  it.each(POST_ROUTES.filter((r) => r.auth))(
    '$path: malformed bodies without credentials are a plain 401',
    async (route) => {
      const reply = await raw(route.path, { contentType: 'application/json', body: '{"broken":' });
      expectHygienic(reply, route.path);
      expect(reply.status).toBe(401);
    },
  );

  it.each([
    [`/auth/email/verify?token=${'t'.repeat(500)}`, 422],
    ['/auth/email/verify?unknown=1', 422],
    [`/auth/password/setup?token=${'t'.repeat(500)}`, 422],
    ['/auth/password/reset?token=a&token=b&token=c', 422],
    [`/auth/google/login?next=${'n'.repeat(5000)}`, 422],
    ['/auth/me?x=%E0%A4%A', 401],
    ['/auth/%E0%A4%A', 400],
    ['/auth/no-such-route', 404],
  ])('GET %s is a %i in the error format', async (path, status) => {
    const reply = await call(server, 'GET', path);
    expectHygienic(reply, path);
    expect(reply.status).toBe(status);
  });

  it('a wrong method is a 4xx in the error format', async () => {
    for (const [method, path] of [
      ['DELETE', '/auth/token'],
      ['PUT', '/auth/me'],
      ['PATCH', '/auth/logout'],
    ] as const) {
      expectHygienic(await call(server, method, path), `${method} ${path}`);
    }
  });

  it('the landing pages escape whatever token they are given', async () => {
    const page = await call(
      server,
      'GET',
      '/auth/password/setup?token=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain('value="&quot;>&lt;script>alert(1)&lt;/script>"');
    expect(page.text).not.toContain('<script>');
  });

  it('an unparsable Google callback ends on the login page, not in an error', async () => {
    const reply = await call(server, 'GET', '/auth/google/callback?code=%E0%A4%A&state=');
    expect(reply.status).toBe(302);
    expect(locationOf(reply)).toMatch(/^\/login\?error=/);
  });
});

describe('secrets stay out of logs; the audit log records the writes (S11, 04 §8)', () => {
  let smtp: FakeSmtp;
  beforeAll(async () => {
    smtp = await startFakeSmtp();
  });
  afterAll(async () => smtp.close());

  it('a whole scripted session logs no secret, and every write is audited with redacted params', async () => {
    const logs: string[] = [];
    const server = await withServer({
      logs,
      config: {
        server: { public_url: 'http://agnes.test' },
        email: {
          smtp: {
            host: '127.0.0.1',
            port: smtp.port,
            secure: false,
            require_starttls: false,
            user: 'agnes-mailer',
            password: SMTP_PASSWORD,
          },
        },
        auth: { bootstrap_token: BOOTSTRAP_TOKEN },
      },
    });
    const secrets = new Map<string, string>([
      ['JWT secret', TEST_JWT_SECRET],
      ['SMTP password', SMTP_PASSWORD],
      ['bootstrap token', BOOTSTRAP_TOKEN],
    ]);
    const remember = (name: string, value: string) => {
      expect(value.length).toBeGreaterThan(8);
      secrets.set(name, value);
    };
    try {
      // Bootstrap, sign in with right and wrong passwords.
      const adminPassword = 'admin-seeded-password-1a2b3c';
      remember('admin password', adminPassword);
      const boot = await call(server, 'POST', '/auth/bootstrap', {
        body: { email: 'root@example.com', password: adminPassword, bootstrap_token: BOOTSTRAP_TOKEN },
      });
      expect(boot.status).toBe(200);
      remember('bootstrap JWT', boot.body.access_token);
      const login = await call(server, 'POST', '/auth/token', {
        body: { email: 'root@example.com', password: adminPassword },
      });
      expect(login.status).toBe(200);
      remember('login JWT', login.body.access_token);
      const wrongPassword = 'wrong-seeded-password-4d5e6f';
      remember('wrong password', wrongPassword);
      expect(
        (
          await call(server, 'POST', '/auth/token', {
            body: { email: 'root@example.com', password: wrongPassword },
          })
        ).status,
      ).toBe(401);
      const ghostPassword = 'ghost-seeded-password-7g8h9i';
      remember('unknown-account password', ghostPassword);
      expect(
        (
          await call(server, 'POST', '/auth/token', {
            body: { email: 'ghost@example.com', password: ghostPassword },
          })
        ).status,
      ).toBe(401);

      // PAT use.
      const analyst = await createUser(server.ctx, 'analyst', { password: 'analyst-seeded-password-0j1k2l' });
      remember('analyst password', analyst.password);
      remember('analyst PAT', analyst.pat);
      expect((await call(server, 'GET', '/auth/me', { auth: analyst.auth })).status).toBe(200);
      expect(
        (await call(server, 'GET', '/auth/me', { auth: 'Bearer agnes_pat_not-a-real-token' })).status,
      ).toBe(401);

      // Magic link through the SMTP server, which sees the configured credentials.
      expect(
        (await call(server, 'POST', '/auth/email/send-link', { body: { email: analyst.email } })).status,
      ).toBe(200);
      const mail = await smtp.waitFor((m) => m.to.includes(analyst.email));
      expect(mail.auth).toEqual({ username: 'agnes-mailer', password: SMTP_PASSWORD });
      const link = new URL(/http:\/\/agnes\.test\/auth\/email\/verify\?token=[\w-]+/.exec(mail.text)![0]);
      const linkToken = link.searchParams.get('token')!;
      remember('magic-link token', linkToken);
      const landing = await call(server, 'GET', `/auth/email/verify${link.search}`);
      const csrf = setCookie(landing.headers, 'agnes_csrf')!.value;
      const verified = await call(server, 'POST', '/auth/email/verify', {
        form: { token: linkToken, _csrf: csrf },
        headers: { cookie: cookieHeader({ agnes_csrf: csrf }) },
      });
      expect(verified.status).toBe(303);
      const cookieJwt = setCookie(verified.headers, 'access_token')!.value;
      remember('magic-link session JWT', cookieJwt);
      const browser = { cookie: cookieHeader({ agnes_csrf: csrf, access_token: cookieJwt }) };
      expect((await call(server, 'GET', '/auth/me', { headers: browser })).status).toBe(200);

      // Password change by the browser session, then a setup link for an invited user.
      const newAnalystPassword = 'analyst-new-password-3m4n5o';
      remember('changed password', newAnalystPassword);
      const changed = await call(server, 'POST', '/auth/password/change', {
        headers: { ...browser, 'x-csrf-token': csrf },
        body: { current_password: analyst.password, new_password: newAnalystPassword },
      });
      expect(changed.status).toBe(200);
      remember('password-change JWT', changed.body.access_token);
      const invited = await server.ctx.repos.users.create({ email: 'invited@example.com' });
      const setupToken = randomBytes(32).toString('base64url');
      remember('setup token', setupToken);
      await server.ctx.repos.users.update(invited.id, {
        setup_token: sha256Hex(setupToken),
        setup_token_created: new Date().toISOString(),
      });
      const setupPassword = 'invited-seeded-password-6p7q8r';
      remember('setup password', setupPassword);
      const setup = await call(server, 'POST', '/auth/password/setup', {
        body: { token: setupToken, password: setupPassword },
      });
      expect(setup.status).toBe(200);
      remember('setup JWT', setup.body.access_token);
      // A failing form login (CSRF) and a tampered token.
      expect(
        (
          await call(server, 'POST', '/auth/password/login', {
            form: { email: analyst.email, password: newAnalystPassword },
          })
        ).status,
      ).toBe(403);
      expect(
        (await call(server, 'GET', '/auth/me', { auth: `Bearer ${login.body.access_token}x` })).status,
      ).toBe(401);

      // Logouts: the PAT, one JWT, then everything.
      expect((await call(server, 'POST', '/auth/logout', { auth: analyst.auth })).status).toBe(200);
      expect(
        (await call(server, 'POST', '/auth/logout', { auth: `Bearer ${login.body.access_token}` })).status,
      ).toBe(200);
      expect(
        (
          await call(server, 'POST', '/auth/logout', {
            auth: `Bearer ${boot.body.access_token}`,
            body: { all: true },
          })
        ).status,
      ).toBe(200);

      // --- Logs: plenty of them, none with a secret.
      expect(logs.length).toBeGreaterThan(20);
      expect(logs.some((line) => line.includes('incoming request'))).toBe(true);
      const everything = logs.join('\n');
      for (const [name, value] of secrets)
        expect(everything, `logs contain the ${name}`).not.toContain(value);
      // Nor the halves of a JWT that would let one rebuild it.
      for (const [name, value] of secrets) {
        if (!name.includes('JWT')) continue;
        expect(everything, `logs contain the signature of the ${name}`).not.toContain(value.split('.')[2]!);
      }

      // --- Audit log.
      const rows = await server.ctx.db.selectFrom('audit_log').selectAll().orderBy('timestamp').execute();
      const actions = rows.map((r) => r.action);
      for (const action of [
        'auth.bootstrap',
        'auth.login',
        'auth.login_failed',
        'auth.magic_link_sent',
        'auth.magic_link_used',
        'auth.password_change',
        'auth.password_setup',
        'auth.logout',
      ]) {
        expect(actions, action).toContain(action);
      }
      const auditText = JSON.stringify(rows);
      for (const [name, value] of secrets)
        expect(auditText, `audit log contains the ${name}`).not.toContain(value);
      expect(auditText).not.toContain(linkToken);
      expect(auditText).not.toContain(setupToken);

      const failed = rows.filter((r) => r.action === 'auth.login_failed');
      expect(failed.map((r) => (r.params as { email?: string }).email).sort()).toEqual([
        'ghost@example.com',
        'root@example.com',
      ]);
      for (const row of failed) {
        expect(row).toMatchObject({ user_id: null, result: 'denied', status_code: 401 });
        expect(Object.keys(row.params as object)).toEqual(['email']);
      }
      const boots = rows.filter((r) => r.action === 'auth.bootstrap');
      expect(boots).toHaveLength(1);
      expect(boots[0]).toMatchObject({ result: 'ok', status_code: 200, user_id: boot.body.user_id });
      const used = rows.find((r) => r.action === 'auth.magic_link_used');
      expect(used).toMatchObject({ user_id: analyst.id, result: 'ok', client: 'api' });
      expect((used!.params as { token?: string }).token).toBe('[redacted]');
      const change = rows.find((r) => r.action === 'auth.password_change');
      expect(change).toMatchObject({ user_id: analyst.id, client: 'web', status_code: 200 });
      expect(change!.params).toEqual({ current_password: '[redacted]', new_password: '[redacted]' });
      const setupRow = rows.find((r) => r.action === 'auth.password_setup');
      expect(setupRow).toMatchObject({ user_id: invited.id, result: 'ok' });
      expect(setupRow!.params).toEqual({ token: '[redacted]', password: '[redacted]' });
      const csrfRefused = rows.find((r) => r.status_code === 403);
      expect(csrfRefused).toMatchObject({ result: 'denied' });
      const logouts = rows.filter((r) => r.action === 'auth.logout');
      expect(logouts).toHaveLength(3);
      expect(logouts.map((r) => r.params)).toContainEqual({ all: true });
      for (const row of rows) expect(row.request_id).toBeTruthy();
      // Reads like /auth/me are not audited.
      expect(rows.every((r) => !r.action.includes('me'))).toBe(true);
      expectErrorBody(
        await call(server, 'GET', '/auth/me', { auth: `Bearer ${boot.body.access_token}` }),
        401,
        'invalid_token',
      );
    } finally {
      await server.close();
    }
  });
});

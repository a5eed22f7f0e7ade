import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import {
  cookieHeader,
  csrfToken,
  expectErrorBody,
  expectUnauthorized,
  locationOf,
  loginJwt,
  type Reply,
  setCookie,
} from './helpers.js';

/** S7 (CSRF, open redirects, CORS, cookie flags), S8 (rate limits), S9 (headers). */

const LIFTED = { max: 1000, window_seconds: 60 };

function expectCsrfFailure(reply: Reply): void {
  expect(reply.status).toBe(403);
  expect(reply.text).toContain('csrf_failed');
}

describe('CSRF (04 §4.2)', () => {
  let server: TestServer;
  let user: TestUser;
  beforeAll(async () => {
    server = await withServer({ config: { auth: { rate_limits: { login: LIFTED } } } });
    user = await createUser(server.ctx, 'analyst');
  });
  afterAll(async () => server.close());

  /** A browser session: the session cookie from the form login plus the page's CSRF cookie. */
  async function browserSession(): Promise<{ csrf: string; session: string; cookie: string }> {
    const csrf = await csrfToken(server);
    const login = await call(server, 'POST', '/auth/password/login', {
      form: { email: user.email, password: user.password, _csrf: csrf },
      headers: { cookie: cookieHeader({ agnes_csrf: csrf }) },
    });
    expect(login.status).toBe(303);
    const session = setCookie(login.headers, 'access_token')!.value;
    return { csrf, session, cookie: cookieHeader({ agnes_csrf: csrf, access_token: session }) };
  }

  const stillSignedIn = async (session: string) =>
    (await call(server, 'GET', '/auth/me', { headers: { cookie: cookieHeader({ access_token: session }) } }))
      .status;

  it('refuses a cookie-authenticated POST without the token, and changes nothing', async () => {
    const { session, cookie } = await browserSession();
    const reply = await call(server, 'POST', '/auth/logout', { headers: { cookie }, body: {} });
    expectErrorBody(reply, 403, 'csrf_failed');
    expect(await stillSignedIn(session)).toBe(200);
    // Without any CSRF cookie at all.
    const bare = await call(server, 'POST', '/auth/logout', {
      headers: { cookie: cookieHeader({ access_token: session }) },
      body: {},
    });
    expectErrorBody(bare, 403, 'csrf_failed');
    expect(await stillSignedIn(session)).toBe(200);
  });

  it('refuses a wrong token: another genuine token, a forged one, or a header without the cookie', async () => {
    const { session, cookie } = await browserSession();
    const other = await csrfToken(server);
    expectErrorBody(
      await call(server, 'POST', '/auth/logout', { headers: { cookie, 'x-csrf-token': other }, body: {} }),
      403,
      'csrf_failed',
    );
    // A self-made token in both places: the cookie must carry our signature (signed double submit).
    const forged = 'attacker-nonce.attacker-signature';
    expectErrorBody(
      await call(server, 'POST', '/auth/logout', {
        headers: {
          cookie: cookieHeader({ agnes_csrf: forged, access_token: session }),
          'x-csrf-token': forged,
        },
        body: {},
      }),
      403,
      'csrf_failed',
    );
    const { csrf } = await browserSession();
    expectErrorBody(
      await call(server, 'POST', '/auth/logout', {
        headers: { cookie: cookieHeader({ access_token: session }), 'x-csrf-token': csrf },
        body: {},
      }),
      403,
      'csrf_failed',
    );
    expect(await stillSignedIn(session)).toBe(200);
  });

  it('accepts the right header, revokes the session and clears the cookie', async () => {
    const { csrf, session, cookie } = await browserSession();
    const reply = await call(server, 'POST', '/auth/logout', {
      headers: { cookie, 'x-csrf-token': csrf },
      body: {},
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'logged_out' });
    const cleared = setCookie(reply.headers, 'access_token');
    expect(cleared?.value).toBe('');
    expect(cleared?.attributes.get('max-age')).toBe('0');
    expect(await stillSignedIn(session)).toBe(401);
  });

  it('accepts the form field and answers the form logout with 303 /login', async () => {
    const { csrf, session, cookie } = await browserSession();
    const reply = await call(server, 'POST', '/auth/logout', { headers: { cookie }, form: { _csrf: csrf } });
    expect(reply.status).toBe(303);
    expect(locationOf(reply)).toBe('/login');
    expect(await stillSignedIn(session)).toBe(401);
  });

  it('refuses a foreign Origin or Referer even with the right token; accepts our own origin', async () => {
    const { csrf, session, cookie } = await browserSession();
    for (const headers of [
      { origin: 'https://evil.com' } as Record<string, string>,
      { origin: 'null' },
      { referer: 'https://evil.com/page' },
      { origin: 'http://localhost:8000.evil.com' },
    ]) {
      const reply = await call(server, 'POST', '/auth/logout', {
        headers: { cookie, 'x-csrf-token': csrf, ...headers },
        body: {},
      });
      expectErrorBody(reply, 403, 'csrf_failed');
    }
    expect(await stillSignedIn(session)).toBe(200);
    // server.public_url defaults to http://localhost:8000.
    const own = await call(server, 'POST', '/auth/logout', {
      headers: { cookie, 'x-csrf-token': csrf, origin: 'http://localhost:8000' },
      body: {},
    });
    expect(own.status).toBe(200);
  });

  it('protects the cookie-authenticated password change too', async () => {
    const { session, cookie } = await browserSession();
    const reply = await call(server, 'POST', '/auth/password/change', {
      headers: { cookie },
      body: { current_password: user.password, new_password: 'a-brand-new-passphrase-42' },
    });
    expectErrorBody(reply, 403, 'csrf_failed');
    expect(await stillSignedIn(session)).toBe(200);
    await loginJwt(server, user);
  });

  it('replaces the session cookie on a cookie-authenticated password change with the token', async () => {
    const victim = await createUser(server.ctx, 'viewer');
    const csrf = await csrfToken(server);
    const login = await call(server, 'POST', '/auth/password/login', {
      form: { email: victim.email, password: victim.password, _csrf: csrf },
      headers: { cookie: cookieHeader({ agnes_csrf: csrf }) },
    });
    const session = setCookie(login.headers, 'access_token')!.value;
    const reply = await call(server, 'POST', '/auth/password/change', {
      headers: { cookie: cookieHeader({ agnes_csrf: csrf, access_token: session }), 'x-csrf-token': csrf },
      body: { current_password: victim.password, new_password: 'a-brand-new-passphrase-42' },
    });
    expect(reply.status).toBe(200);
    const replaced = setCookie(reply.headers, 'access_token');
    expect(replaced?.value).toBe(reply.body.access_token);
    expect(replaced?.attributes.has('httponly')).toBe(true);
    expect(await stillSignedIn(session)).toBe(401);
    expect(await stillSignedIn(replaced!.value)).toBe(200);
  });

  it('exempts Bearer-authenticated writes, even when a session cookie is also sent', async () => {
    const token = await loginJwt(server, user);
    expect((await call(server, 'POST', '/auth/logout', { auth: `Bearer ${token}` })).status).toBe(200);
    const pat = await createUser(server.ctx, 'viewer');
    const { session } = await browserSession();
    const reply = await call(server, 'POST', '/auth/logout', {
      auth: pat.auth,
      headers: { cookie: cookieHeader({ access_token: session }) },
    });
    expect(reply.status).toBe(200);
    // The Bearer credential was the one revoked, not the browser session.
    expect(await stillSignedIn(session)).toBe(200);
    expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: pat.auth }));
  });

  it('protects the anonymous web forms against login CSRF', async () => {
    const csrf = await csrfToken(server);
    const form = { email: user.email, password: user.password };
    const noField = await call(server, 'POST', '/auth/password/login', {
      form,
      headers: { cookie: cookieHeader({ agnes_csrf: csrf }) },
    });
    expectCsrfFailure(noField);
    expect(setCookie(noField.headers, 'access_token')).toBeUndefined();
    const noCookie = await call(server, 'POST', '/auth/password/login', { form: { ...form, _csrf: csrf } });
    expectCsrfFailure(noCookie);
    const nothing = await call(server, 'POST', '/auth/password/login', { form });
    expectCsrfFailure(nothing);
    const crossSite = await call(server, 'POST', '/auth/password/login', {
      form: { ...form, _csrf: csrf },
      headers: { cookie: cookieHeader({ agnes_csrf: csrf }), origin: 'https://evil.com' },
    });
    expectCsrfFailure(crossSite);
    for (const path of ['/auth/email/send-link', '/auth/password/reset-request']) {
      expectCsrfFailure(await call(server, 'POST', path, { form: { email: user.email } }));
    }
    expectCsrfFailure(await call(server, 'POST', '/auth/email/verify', { form: { token: 'x'.repeat(43) } }));
    for (const path of ['/auth/password/setup', '/auth/password/reset']) {
      expectCsrfFailure(
        await call(server, 'POST', path, { form: { token: 'x'.repeat(43), password: 'p'.repeat(12) } }),
      );
    }
  });
});

describe('open redirects (04 §4.3)', () => {
  let server: TestServer;
  let user: TestUser;
  let csrf: string;
  beforeAll(async () => {
    server = await withServer({ config: { auth: { rate_limits: { login: LIFTED } } } });
    user = await createUser(server.ctx, 'analyst');
    csrf = await csrfToken(server);
  });
  afterAll(async () => server.close());

  const formLogin = (next: string) =>
    call(server, 'POST', '/auth/password/login', {
      form: { email: user.email, password: user.password, next, _csrf: csrf },
      headers: { cookie: cookieHeader({ agnes_csrf: csrf }) },
    });

  it.each([
    '//evil.com',
    '/\\evil.com',
    'https://evil.com',
    '/%2F%2Fevil.com',
    '/%5Cevil.com',
    '/%5C%5Cevil.com',
    '%2F%2Fevil.com',
    'javascript:alert(1)',
    '/javascript:alert(1)',
    '///evil.com',
    'http:evil.com',
    '\\\\evil.com',
    '/\t/evil.com',
    '/%09/evil.com',
    '/%0d%0aSet-Cookie:%20x=1',
    'evil.com',
    `/${'a'.repeat(600)}`,
    '/%E0%A4%A',
  ])('sends next=%s to /dashboard', async (next) => {
    const reply = await formLogin(next);
    expect(reply.status).toBe(303);
    expect(locationOf(reply)).toBe('/dashboard');
  });

  it('keeps a safe next', async () => {
    for (const next of ['/catalog?x=1', '/catalog', '/tables/orders#columns']) {
      const reply = await formLogin(next);
      expect(reply.status).toBe(303);
      expect(locationOf(reply)).toBe(next);
    }
  });

  it('sends non-ASCII targets percent-encoded instead of failing', async () => {
    for (const [next, location] of [
      ['/caf\u00e9', '/caf%C3%A9'],
      ['/%E2%98%83', '/%E2%98%83'],
      ['/\u2603?q=a b', '/%E2%98%83?q=a%20b'],
    ]) {
      const reply = await formLogin(next!);
      expect(reply.status).toBe(303);
      expect(locationOf(reply)).toBe(location);
    }
  });

  it('keeps a failed form login on the login page with a sanitised next', async () => {
    const reply = await call(server, 'POST', '/auth/password/login', {
      form: { email: user.email, password: 'wrong-password-1', next: '//evil.com', _csrf: csrf },
      headers: { cookie: cookieHeader({ agnes_csrf: csrf }) },
    });
    expect(reply.status).toBe(303);
    expect(locationOf(reply)).toBe('/login?error=invalid_credentials&next=%2Fdashboard');
  });
});

describe('rate limits (04 §4.1, S8)', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function expectRateLimited(reply: Reply): void {
    expect(reply.status).toBe(429);
    expect(reply.body).toEqual({
      detail: 'too many requests',
      code: 'rate_limited',
      request_id: expect.any(String),
    });
    const retryAfter = Number(reply.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter) && retryAfter > 0).toBe(true);
  }

  /** Requests with a fresh email each time, so per-email limits never trigger. */
  async function burst(count: number, send: (i: number) => Promise<Reply>): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (let i = 0; i < count; i += 1) replies.push(await send(i));
    return replies;
  }

  const EMAIL_CONFIG = { email: { smtp: { host: '127.0.0.1', port: 9, require_starttls: false } } };

  const routes: [string, number, (s: TestServer, i: number, user: TestUser) => Promise<Reply>][] = [
    [
      'POST /auth/token',
      10,
      (s, i) =>
        call(s, 'POST', '/auth/token', { body: { email: `u${i}@example.com`, password: 'wrong-pass-1' } }),
    ],
    [
      'POST /auth/password/login',
      10,
      (s, i) =>
        call(s, 'POST', '/auth/password/login', {
          body: { email: `u${i}@example.com`, password: 'wrong-pass-1' },
        }),
    ],
    [
      'POST /auth/password/change',
      10,
      (s, _i, u) =>
        call(s, 'POST', '/auth/password/change', {
          auth: u.auth,
          body: { current_password: 'wrong-pass-1', new_password: 'a-brand-new-passphrase-42' },
        }),
    ],
    [
      'POST /auth/email/send-link',
      20,
      (s, i) => call(s, 'POST', '/auth/email/send-link', { body: { email: `u${i}@example.com` } }),
    ],
    [
      'POST /auth/password/reset-request',
      20,
      (s, i) => call(s, 'POST', '/auth/password/reset-request', { body: { email: `u${i}@example.com` } }),
    ],
    [
      'POST /auth/email/verify',
      10,
      (s) => call(s, 'POST', '/auth/email/verify', { body: { token: 'x'.repeat(43) } }),
    ],
    [
      'POST /auth/password/setup',
      10,
      (s) =>
        call(s, 'POST', '/auth/password/setup', {
          body: { token: 'x'.repeat(43), password: 'a-long-unusual-passphrase' },
        }),
    ],
    [
      'POST /auth/password/reset',
      10,
      (s) =>
        call(s, 'POST', '/auth/password/reset', {
          body: { token: 'x'.repeat(43), password: 'a-long-unusual-passphrase' },
        }),
    ],
    [
      'POST /auth/bootstrap',
      3,
      (s) =>
        call(s, 'POST', '/auth/bootstrap', {
          body: { email: 'root@example.com', password: 'a-long-unusual-passphrase' },
        }),
    ],
  ];

  it.each(routes)('%s allows %i calls per window, then 429 with Retry-After', async (_name, limit, send) => {
    server = await withServer({ config: EMAIL_CONFIG });
    const s = server;
    const user = await createUser(s.ctx, 'analyst');
    const replies = await burst(limit, (i) => send(s, i, user));
    for (const reply of replies) expect(reply.status).not.toBe(429);
    expectRateLimited(await send(s, limit, user));
  });

  it('counts /auth/token, /auth/password/login and /auth/password/change in one login budget per client', async () => {
    server = await withServer();
    const s = server;
    const user = await createUser(s.ctx, 'analyst');
    await burst(4, (i) =>
      call(s, 'POST', '/auth/token', { body: { email: `t${i}@example.com`, password: 'wrong-pass-1' } }),
    );
    await burst(4, (i) =>
      call(s, 'POST', '/auth/password/login', {
        body: { email: `l${i}@example.com`, password: 'wrong-pass-1' },
      }),
    );
    await burst(2, () =>
      call(s, 'POST', '/auth/password/change', {
        auth: user.auth,
        body: { current_password: 'wrong-pass-1', new_password: 'a-brand-new-passphrase-42' },
      }),
    );
    expectRateLimited(
      await call(s, 'POST', '/auth/token', { body: { email: user.email, password: user.password } }),
    );
    expectRateLimited(
      await call(s, 'POST', '/auth/password/login', { body: { email: user.email, password: user.password } }),
    );
  });

  it('does not reset the counter when the client rotates X-Forwarded-For (no trusted proxy)', async () => {
    server = await withServer();
    const s = server;
    const replies = await burst(10, (i) =>
      call(s, 'POST', '/auth/token', {
        body: { email: `x${i}@example.com`, password: 'wrong-pass-1' },
        headers: { 'x-forwarded-for': `203.0.113.${i + 1}`, 'x-real-ip': `198.51.100.${i + 1}` },
      }),
    );
    for (const reply of replies) expectUnauthorized(reply);
    expectRateLimited(
      await call(s, 'POST', '/auth/token', {
        body: { email: 'x-last@example.com', password: 'wrong-pass-1' },
        headers: { 'x-forwarded-for': '192.0.2.77' },
      }),
    );
  });

  it('keys on the forwarded client address behind a trusted proxy (control)', async () => {
    server = await withServer({ config: { server: { trust_proxy: ['127.0.0.1'] } } });
    const s = server;
    const replies = await burst(12, (i) =>
      call(s, 'POST', '/auth/token', {
        body: { email: `p${i}@example.com`, password: 'wrong-pass-1' },
        headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
      }),
    );
    for (const reply of replies) expectUnauthorized(reply);
  });

  it('bootstrap allows 3 calls per minute', async () => {
    server = await withServer();
    const s = server;
    await createUser(s.ctx, 'admin');
    const body = { email: 'late@example.com', password: 'a-long-unusual-passphrase' };
    const replies = await burst(3, () => call(s, 'POST', '/auth/bootstrap', { body }));
    for (const reply of replies) expectErrorBody(reply, 403, 'bootstrap_disabled');
    expectRateLimited(await call(s, 'POST', '/auth/bootstrap', { body }));
  });
});

describe('security headers (04 §4.4, S9)', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  function csp(reply: Reply): Map<string, string> {
    const header = reply.headers.get('content-security-policy') ?? '';
    return new Map(
      header
        .split(';')
        .map((d) => d.trim())
        .filter(Boolean)
        .map((d) => {
          const space = d.indexOf(' ');
          return [d.slice(0, space), d.slice(space + 1)] as [string, string];
        }),
    );
  }

  function expectCommonHeaders(reply: Reply, options: { connectSrc?: string } = {}): Map<string, string> {
    const directives = csp(reply);
    expect(directives.get('default-src')).toBe("'self'");
    expect(directives.get('script-src')).toBe("'self'");
    expect(directives.get('style-src')).toMatch(/^'self'( 'nonce-[A-Za-z0-9+/=_-]+')?$/);
    expect(directives.get('img-src')).toBe("'self' data:");
    expect(directives.get('connect-src')).toBe(options.connectSrc ?? "'self'");
    expect(directives.get('frame-ancestors')).toBe("'none'");
    expect(directives.get('base-uri')).toBe("'none'");
    expect(directives.get('object-src')).toBe("'none'");
    expect(directives.get('form-action')).toBe("'self'");
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    expect(reply.headers.get('x-frame-options')).toBe('DENY');
    expect(reply.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(reply.headers.get('x-request-id')).toBeTruthy();
    return directives;
  }

  it('sends them on JSON responses (200 and errors) and HTML pages; a style nonce per response', async () => {
    server = await withServer();
    const health = await call(server, 'GET', '/api/health');
    expect(health.headers.get('content-type')).toContain('application/json');
    expectCommonHeaders(health);
    expect(health.headers.get('referrer-policy')).toBe('same-origin');
    const denied = await call(server, 'GET', '/auth/me');
    expectCommonHeaders(denied);
    expect(denied.headers.get('cache-control')).toBe('no-store');
    const missing = await call(server, 'GET', '/no/such/route');
    expect(missing.status).toBe(404);
    expectCommonHeaders(missing);

    const pages = [
      await call(server, 'GET', '/auth/password/reset?token=one'),
      await call(server, 'GET', '/auth/password/setup?token=two'),
    ];
    const nonces = pages.map((page) => {
      expect(page.headers.get('content-type')).toContain('text/html');
      const directives = expectCommonHeaders(page);
      const nonce = /'nonce-([^']+)'/.exec(directives.get('style-src') ?? '')?.[1];
      expect(nonce).toBeTruthy();
      // The page's one style block carries the nonce the header allows.
      expect(page.text).toContain(`<style nonce="${nonce}">`);
      // Token pages: no referrer, no caching.
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.headers.get('cache-control')).toBe('no-store');
      return nonce;
    });
    expect(nonces[0]).not.toBe(nonces[1]);
    for (const reply of [health, denied, ...pages])
      expect(reply.headers.get('strict-transport-security')).toBeNull();
  });

  it('adds HSTS when server.public_url is https, and the WebSocket gateway to connect-src', async () => {
    server = await withServer({
      config: {
        server: { public_url: 'https://agnes.example.com' },
        ws_gateway: { public_url: 'wss://agnes.example.com/ws' },
      },
    });
    for (const reply of [
      await call(server, 'GET', '/api/health'),
      await call(server, 'GET', '/auth/password/reset?token=x'),
    ]) {
      expect(reply.headers.get('strict-transport-security')).toBe('max-age=31536000');
      expectCommonHeaders(reply, { connectSrc: "'self' wss://agnes.example.com" });
    }
  });

  it('trusts X-Forwarded-Proto for the Secure flag only from a trusted proxy', async () => {
    for (const [trust, secure] of [
      [false, false],
      [['127.0.0.1'], true],
    ] as const) {
      server = await withServer({ config: { server: { trust_proxy: trust } } });
      const page = await call(server, 'GET', '/auth/password/reset?token=x', {
        headers: { 'x-forwarded-proto': 'https' },
      });
      expect(setCookie(page.headers, 'agnes_csrf')?.attributes.has('secure')).toBe(secure);
      await server.close();
      server = undefined;
    }
  });

  it('marks cookies Secure when server.public_url is https', async () => {
    server = await withServer({
      config: { server: { public_url: 'https://agnes.example.com' }, auth: { jwt_ttl_hours: 8 } },
    });
    const user = await createUser(server.ctx, 'analyst');
    const page = await call(server, 'GET', '/auth/password/reset?token=x');
    const csrfCookie = setCookie(page.headers, 'agnes_csrf')!;
    expect(csrfCookie.attributes.has('secure')).toBe(true);
    expect(csrfCookie.attributes.get('samesite')?.toLowerCase()).toBe('strict');
    expect(csrfCookie.attributes.has('httponly')).toBe(false);
    expect(csrfCookie.attributes.has('max-age')).toBe(false); // a session cookie
    const login = await call(server, 'POST', '/auth/password/login', {
      form: { email: user.email, password: user.password, _csrf: csrfCookie.value },
      headers: {
        cookie: cookieHeader({ agnes_csrf: csrfCookie.value }),
        origin: 'https://agnes.example.com',
      },
    });
    expect(login.status).toBe(303);
    const session = setCookie(login.headers, 'access_token')!;
    expect(session.attributes.has('secure')).toBe(true);
    expect(session.attributes.has('httponly')).toBe(true);
    expect(session.attributes.get('samesite')?.toLowerCase()).toBe('lax');
    expect(session.attributes.get('path')).toBe('/');
    expect(session.attributes.get('max-age')).toBe(String(8 * 3600));
  });
});

describe('CORS (04 §4.4)', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const preflight = (s: TestServer, origin: string) =>
    call(s, 'OPTIONS', '/auth/me', {
      headers: {
        origin,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });

  it('is off by default: no Access-Control-Allow-Origin for any origin', async () => {
    server = await withServer();
    const simple = await call(server, 'GET', '/api/health', { headers: { origin: 'https://evil.com' } });
    expect(simple.status).toBe(200);
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    expect(simple.headers.get('access-control-allow-credentials')).toBeNull();
    const pre = await preflight(server, 'https://evil.com');
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows only the listed origins, with credentials', async () => {
    server = await withServer({ config: { server: { cors_origins: ['https://app.example.com'] } } });
    const listed = await call(server, 'GET', '/api/health', {
      headers: { origin: 'https://app.example.com' },
    });
    expect(listed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(listed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(listed.headers.get('vary')).toContain('Origin');
    const pre = await preflight(server, 'https://app.example.com');
    expect(pre.status).toBeLessThan(300);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(pre.headers.get('access-control-allow-credentials')).toBe('true');

    for (const origin of [
      'https://evil.com',
      'https://app.example.com.evil.com',
      'http://app.example.com',
      'null',
    ]) {
      const unlisted = await call(server, 'GET', '/api/health', { headers: { origin } });
      expect(unlisted.headers.get('access-control-allow-origin')).toBeNull();
      const unlistedPre = await preflight(server, origin);
      expect(unlistedPre.headers.get('access-control-allow-origin')).toBeNull();
    }
  });
});

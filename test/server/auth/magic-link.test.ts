import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/server/auth/pat.js';
import { type FakeSmtp, type ReceivedMail, startFakeSmtp } from '../../fakes/smtp.js';
import { call, createUser, type TestServer, withServer } from '../../support/server.js';
import { cookieHeader, expectErrorBody, locationOf, type Reply, setCookie } from './helpers.js';

/** Magic-link sign-in end to end through a real SMTP server (04 §1.3). */

const PUBLIC_URL = 'http://agnes.test';
const INSTANCE = 'Agnes <Lab> & "Co"';
const LINK = /http:\/\/agnes\.test\/auth\/email\/verify\?token=[A-Za-z0-9_-]+/;

describe('magic links', () => {
  let smtp: FakeSmtp;
  let server: TestServer;

  beforeAll(async () => {
    smtp = await startFakeSmtp();
  });
  afterAll(async () => smtp.close());

  beforeEach(async () => {
    smtp.messages.length = 0;
    server = await withServer({
      config: {
        instance: { name: INSTANCE },
        server: { public_url: PUBLIC_URL },
        email: {
          from: 'Agnes <no-reply@agnes.test>',
          smtp: { host: '127.0.0.1', port: smtp.port, secure: false, require_starttls: false },
        },
        // The per-IP verify limit is tested in browser-facing; the per-email mail limit here.
        auth: { rate_limits: { verify: { max: 1000, window_seconds: 60 } } },
      },
    });
  });
  afterEach(async () => server.close());

  const sendLink = (email: string, next?: string) =>
    call(server, 'POST', '/auth/email/send-link', { body: next === undefined ? { email } : { email, next } });

  /** Requests a link for the user and returns it from the delivered mail, pointed at the test server. */
  async function linkFor(
    email: string,
    next?: string,
  ): Promise<{ mail: ReceivedMail; url: URL; token: string }> {
    const before = smtp.messages.length;
    expect((await sendLink(email, next)).status).toBe(200);
    const mail = await smtp.waitFor((m) => smtp.messages.indexOf(m) >= before && m.to.includes(email));
    const link = LINK.exec(mail.text)?.[0];
    expect(link).toBeTruthy();
    const url = new URL(link!);
    const local = new URL(`${url.pathname}${url.search}`, server.url);
    return { mail, url: local, token: url.searchParams.get('token')! };
  }

  /** GETs the landing page like a browser and returns what its form would post. */
  async function landing(url: URL): Promise<{ page: Reply; csrf: string; fields: Record<string, string> }> {
    const page = await call(server, 'GET', `${url.pathname}${url.search}`);
    expect(page.status).toBe(200);
    const csrf = setCookie(page.headers, 'agnes_csrf')?.value;
    expect(csrf).toBeTruthy();
    const fields: Record<string, string> = {};
    for (const [, name, value] of page.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
      fields[name!] = value!.replace(/&amp;/g, '&');
    return { page, csrf: csrf!, fields };
  }

  const postForm = (fields: Record<string, string>, csrf: string) =>
    call(server, 'POST', '/auth/email/verify', {
      form: fields,
      headers: { cookie: cookieHeader({ agnes_csrf: csrf }) },
    });

  const linkRow = (token: string) =>
    server.ctx.db
      .selectFrom('magic_link_tokens')
      .selectAll()
      .where('token_hash', '=', sha256Hex(token))
      .executeTakeFirst();

  it('answers every address alike and mails only active, non-service accounts', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const inactive = await createUser(server.ctx, 'analyst', { active: false });
    const service = await createUser(server.ctx, 'admin', { service: true });
    const replies = [];
    for (const email of ['nobody@example.com', inactive.email, service.email, user.email])
      replies.push(await sendLink(email));
    for (const reply of replies) {
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(replies[0]!.body);
    }
    expect(replies[0]!.body).toEqual({ message: expect.any(String) });
    await smtp.waitFor((m) => m.to.includes(user.email));
    // The refusals were decided before the known user's mail went out (one state-store connection).
    const rows = await server.ctx.db.selectFrom('magic_link_tokens').select('user_id').execute();
    expect(rows).toEqual([{ user_id: user.id }]);
    expect(smtp.messages.map((m) => m.to)).toEqual([[user.email]]);
  });

  it('sends a mail with the link in plain text and escaped HTML', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const { mail, token } = await linkFor(user.email);
    expect(mail.subject).toBe(`Sign in to ${INSTANCE}`);
    expect(mail.from).toBe('no-reply@agnes.test');
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const link = `${PUBLIC_URL}/auth/email/verify?token=${token}`;
    expect(mail.text).toContain(link);
    expect(mail.text).toContain('15 minutes');
    expect(mail.text).toMatch(/ignore/i);
    expect(mail.text).toContain(INSTANCE);
    expect(mail.html).toContain(`href="${link}"`);
    expect(mail.html).toContain('Agnes &lt;Lab&gt; &amp; &quot;Co&quot;');
    expect(mail.html).not.toContain(INSTANCE);
    expect(mail.html).not.toContain('<Lab>');
    // Only the hash is stored, with the configured lifetime.
    const row = await linkRow(token);
    expect(row?.user_id).toBe(user.id);
    expect(row?.consumed_at).toBeNull();
    const ttl = Date.parse(row!.expires_at) - Date.now();
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
    const stored = JSON.stringify(await server.ctx.db.selectFrom('magic_link_tokens').selectAll().execute());
    expect(stored).not.toContain(token);
  });

  it('the landing page consumes nothing, is not cached, sends no referrer and carries a CSRF form', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const { url, token } = await linkFor(user.email);
    const first = await landing(url);
    const second = await landing(url);
    for (const { page } of [first, second]) {
      expect(page.headers.get('content-type')).toContain('text/html');
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.headers.get('referrer-policy')).toBe('no-referrer');
      expect(page.text).toContain('<form method="post" action="/auth/email/verify">');
      expect(page.text).not.toContain(user.email);
    }
    const cookie = setCookie(first.page.headers, 'agnes_csrf')!;
    expect(cookie.attributes.has('httponly')).toBe(false);
    expect(cookie.attributes.get('samesite')?.toLowerCase()).toBe('strict');
    expect(cookie.attributes.get('path')).toBe('/');
    expect(first.fields).toEqual({ _csrf: first.csrf, token });
    expect((await linkRow(token))?.consumed_at).toBeNull();
  });

  it('the form POST signs in with a 303 and a session cookie; the link then stops working', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const { url, token } = await linkFor(user.email);
    const { csrf, fields } = await landing(url);
    const noCsrf = await call(server, 'POST', '/auth/email/verify', { form: { token } });
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.text).toContain('csrf_failed');
    const signedIn = await postForm(fields, csrf);
    expect(signedIn.status).toBe(303);
    expect(locationOf(signedIn)).toBe('/dashboard');
    const session = setCookie(signedIn.headers, 'access_token');
    expect(session?.attributes.has('httponly')).toBe(true);
    expect(session?.attributes.get('max-age')).toBe(String(24 * 3600));
    const me = await call(server, 'GET', '/auth/me', {
      headers: { cookie: cookieHeader({ access_token: session!.value }) },
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: user.id, auth: { method: 'jwt', via: 'cookie' } });
    expect((await linkRow(token))?.consumed_at).toBeTruthy();

    const reusedForm = await postForm(fields, csrf);
    expect(reusedForm.status).toBe(303);
    expect(locationOf(reusedForm)).toBe('/login?error=invalid_link');
    expect(setCookie(reusedForm.headers, 'access_token')).toBeUndefined();
    const reusedJson = await call(server, 'POST', '/auth/email/verify', { body: { token } });
    expectErrorBody(reusedJson, 401, 'invalid_link');
  });

  it('JSON verify returns a TokenResponse and no cookie; two concurrent uses give exactly one session', async () => {
    const user = await createUser(server.ctx, 'viewer');
    const { token } = await linkFor(user.email);
    const [a, b] = await Promise.all([
      call(server, 'POST', '/auth/email/verify', { body: { token } }),
      call(server, 'POST', '/auth/email/verify', { body: { token } }),
    ]);
    const statuses = [a!.status, b!.status].sort();
    expect(statuses).toEqual([200, 401]);
    const ok = a!.status === 200 ? a! : b!;
    expect(ok.body).toMatchObject({ token_type: 'bearer', user_id: user.id, role: 'viewer' });
    expect(ok.headers.getSetCookie()).toEqual([]);
    expect((await call(server, 'GET', '/auth/me', { auth: `Bearer ${ok.body.access_token}` })).status).toBe(
      200,
    );
  });

  it('refuses an expired link (JSON 401 invalid_link, form back to /login)', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const { url, token } = await linkFor(user.email);
    const { csrf, fields } = await landing(url);
    await server.ctx.db
      .updateTable('magic_link_tokens')
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where('token_hash', '=', sha256Hex(token))
      .execute();
    expectErrorBody(
      await call(server, 'POST', '/auth/email/verify', { body: { token } }),
      401,
      'invalid_link',
    );
    const form = await postForm(fields, csrf);
    expect(locationOf(form)).toBe('/login?error=invalid_link');
  });

  it('refuses unknown and malformed tokens, and a link of a user deactivated since, with one message', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const { token } = await linkFor(user.email);
    await server.ctx.repos.users.update(user.id, { active: false });
    const replies = [
      await call(server, 'POST', '/auth/email/verify', { body: { token } }),
      await call(server, 'POST', '/auth/email/verify', { body: { token: 'A'.repeat(43) } }),
      await call(server, 'POST', '/auth/email/verify', { body: { token: 'x' } }),
    ];
    for (const reply of replies) expectErrorBody(reply, 401, 'invalid_link');
    expect(new Set(replies.map((r) => r.body.detail)).size).toBe(1);
  });

  it('earlier unexpired links stay valid until used', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const first = await linkFor(user.email);
    const second = await linkFor(user.email);
    expect(first.token).not.toBe(second.token);
    expect((await call(server, 'POST', '/auth/email/verify', { body: { token: first.token } })).status).toBe(
      200,
    );
    expect((await call(server, 'POST', '/auth/email/verify', { body: { token: second.token } })).status).toBe(
      200,
    );
  });

  it('limits links to 5 per 10 minutes per email (429 with Retry-After); other emails are unaffected', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const other = await createUser(server.ctx, 'analyst');
    for (let i = 0; i < 5; i += 1) {
      const email = i % 2 === 0 ? user.email : user.email.toUpperCase();
      expect((await sendLink(email)).status).toBe(200);
    }
    const limited = await sendLink(user.email);
    expectErrorBody(limited, 429, 'rate_limited');
    expect(limited.body.detail).toBe('too many requests');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect((await sendLink(other.email)).status).toBe(200);
    await smtp.waitFor((m) => m.to.includes(other.email));
    await expect
      .poll(() => smtp.messages.filter((m) => m.to.includes(user.email)).length, { timeout: 5_000 })
      .toBe(5);
  });

  it('honours a safe next and replaces an unsafe one', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const safe = await linkFor(user.email, '/catalog?x=1');
    const safePage = await landing(safe.url);
    const safeSignIn = await postForm(safePage.fields, safePage.csrf);
    expect(locationOf(safeSignIn)).toBe('/catalog?x=1');

    // Four more links: five in all, the per-email limit.
    for (const next of ['//evil.com', 'https://evil.com/x', '/\\evil.com', '/%2F%2Fevil.com']) {
      const unsafe = await linkFor(user.email, next);
      expect((await linkRow(unsafe.token))?.next_path).toBe('/dashboard');
      const page = await landing(unsafe.url);
      const signIn = await postForm(page.fields, page.csrf);
      expect(locationOf(signIn)).toBe('/dashboard');
    }
  });

  it('validates next on the landing page and in the form post', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const { url } = await linkFor(user.email, '/catalog');
    const evil = new URL(url);
    evil.searchParams.set('next', '//evil.com');
    const evilPage = await landing(evil);
    expect(evilPage.fields.next).toBe('/dashboard');
    const page = await landing(url);
    const signIn = await postForm({ ...page.fields, next: 'https://evil.com' }, page.csrf);
    expect(locationOf(signIn)).toBe('/dashboard');
  });
});

describe('magic links without email', () => {
  it('answers 503 email_not_configured and the landing page sends the browser back to /login', async () => {
    const server = await withServer();
    try {
      const user = await createUser(server.ctx, 'analyst');
      const reply = await call(server, 'POST', '/auth/email/send-link', { body: { email: user.email } });
      expectErrorBody(reply, 503, 'email_not_configured');
      const reset = await call(server, 'POST', '/auth/password/reset-request', {
        body: { email: user.email },
      });
      expectErrorBody(reset, 503, 'email_not_configured');
      const page = await call(server, 'GET', '/auth/email/verify?token=abc');
      expect(page.status).toBe(303);
      expect(locationOf(page)).toBe('/login?error=email_not_configured');
      expect(await server.ctx.db.selectFrom('magic_link_tokens').selectAll().execute()).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKey } from '../../../src/server/auth/keys.js';
import { signValue } from '../../../src/server/auth/signed-value.js';
import { type AccountClaims, type FakeOidc, startFakeOidc } from '../../fakes/oidc.js';
import { call, createUser, TEST_JWT_SECRET, type TestServer, withServer } from '../../support/server.js';
import { cookieHeader, locationOf, type Reply, setCookie } from './helpers.js';

/** Google sign-in (04 §1.4) end to end against a real OpenID Connect provider on loopback. */

const PUBLIC_URL = 'http://agnes.test';
const REDIRECT_URI = `${PUBLIC_URL}/auth/google/callback`;

let accountCounter = 0;

describe('Google sign-in', () => {
  let oidc: FakeOidc;
  let server: TestServer;

  const googleConfig = (google: Record<string, unknown> = {}) => ({
    server: { public_url: PUBLIC_URL },
    auth: {
      google: {
        client_id: oidc.clientId,
        client_secret: oidc.clientSecret,
        issuer: oidc.issuer,
        // Mixed case on purpose: the domain comparison ignores case.
        allowed_domains: ['Example.COM', 'partner.org'],
        default_role: 'viewer',
        ...google,
      },
    },
  });

  beforeAll(async () => {
    oidc = await startFakeOidc({ redirectUri: REDIRECT_URI });
    server = await withServer({ config: googleConfig() });
  });
  afterAll(async () => {
    await server?.close();
    await oidc?.close();
  });

  /** `GET /auth/google/login`: the provider URL and the flow cookie. */
  async function start(target: TestServer, next = '/catalog') {
    const reply = await call(target, 'GET', `/auth/google/login?next=${encodeURIComponent(next)}`);
    expect(reply.status).toBe(302);
    const authorization = new URL(locationOf(reply));
    const cookie = setCookie(reply.headers, 'agnes_oidc');
    expect(cookie?.value).toBeTruthy();
    return { reply, authorization, cookie: cookie! };
  }

  /** The whole browser journey: login route, provider login and consent, callback with the flow cookie. */
  async function signIn(
    claims: AccountClaims,
    options: {
      target?: TestServer;
      next?: string;
      callbackQuery?: (query: URLSearchParams) => void;
      cookie?: string | null;
    } = {},
  ): Promise<{ callback: Reply; flowCookie: string; callbackUrl: URL }> {
    const target = options.target ?? server;
    accountCounter += 1;
    const accountId = `account-${accountCounter}`;
    oidc.accounts.set(accountId, claims);
    const { authorization, cookie } = await start(target, options.next);
    const back = await oidc.authorize(authorization.href, accountId);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT_URI);
    options.callbackQuery?.(back.searchParams);
    const flowCookie = options.cookie === undefined ? cookie.value : options.cookie;
    const callback = await call(target, 'GET', `/auth/google/callback${back.search}`, {
      headers: flowCookie === null ? {} : { cookie: cookieHeader({ agnes_oidc: flowCookie }) },
    });
    return { callback, flowCookie: cookie.value, callbackUrl: back };
  }

  const sessionOf = (reply: Reply) => setCookie(reply.headers, 'access_token');

  function expectRefusal(reply: Reply, reason: string): void {
    expect(reply.status).toBe(302);
    expect(locationOf(reply)).toBe(`/login?error=${reason}`);
    expect(sessionOf(reply)).toBeUndefined();
  }

  it('starts with PKCE S256, state and nonce, and the redirect URI from server.public_url', async () => {
    const { authorization, cookie } = await start(server);
    expect(authorization.origin).toBe(oidc.issuer);
    const params = authorization.searchParams;
    expect(params.get('client_id')).toBe(oidc.clientId);
    expect(params.get('response_type')).toBe('code');
    expect(params.get('scope')).toBe('openid email profile');
    expect(params.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(params.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect(cookie.attributes.has('httponly')).toBe(true);
    expect(cookie.attributes.get('samesite')?.toLowerCase()).toBe('lax');
    expect(cookie.attributes.get('path')).toBe('/auth/google');
    expect(cookie.attributes.get('max-age')).toBe('600');
    expect(cookie.attributes.has('secure')).toBe(false);
    // Every login gets its own state, nonce and verifier.
    const other = await start(server);
    expect(other.authorization.searchParams.get('state')).not.toBe(params.get('state'));
    expect(other.authorization.searchParams.get('nonce')).not.toBe(params.get('nonce'));
    expect(other.authorization.searchParams.get('code_challenge')).not.toBe(params.get('code_challenge'));
  });

  it('signs in a verified address of an allowed domain, creating the user with the default role', async () => {
    const email = `new-${Date.now()}@example.com`;
    const { callback } = await signIn({ email, email_verified: true, name: 'New Person' });
    expect(callback.status).toBe(302);
    expect(locationOf(callback)).toBe('/catalog');
    const session = sessionOf(callback);
    expect(session?.attributes.has('httponly')).toBe(true);
    expect(session?.attributes.get('samesite')?.toLowerCase()).toBe('lax');
    expect(session?.attributes.get('path')).toBe('/');
    expect(session?.attributes.get('max-age')).toBe(String(24 * 3600));
    // The flow cookie is cleared.
    const cleared = setCookie(callback.headers, 'agnes_oidc');
    expect(cleared?.value).toBe('');
    expect(cleared?.attributes.get('max-age')).toBe('0');
    expect(cleared?.attributes.get('path')).toBe('/auth/google');

    const me = await call(server, 'GET', '/auth/me', {
      headers: { cookie: cookieHeader({ access_token: session!.value }) },
    });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ email, name: 'New Person', role: 'viewer', is_service: false });
    const row = await server.ctx.repos.users.getByEmail(email);
    expect(row?.password_hash).toBeNull();
    expect(row?.last_login_at).toBeTruthy();

    // A second sign-in finds the same account.
    const again = await signIn({ email, email_verified: true, name: 'New Person' }, { next: '/dashboard' });
    expect(locationOf(again.callback)).toBe('/dashboard');
    expect(await server.ctx.repos.users.count()).toBeGreaterThan(0);
    const rows = await server.ctx.db.selectFrom('users').select('id').where('email', '=', email).execute();
    expect(rows).toHaveLength(1);
  });

  it('signs an existing user in with their own role', async () => {
    const user = await createUser(server.ctx, 'km_admin', { email: `existing-${Date.now()}@partner.org` });
    const { callback } = await signIn({ email: user.email, email_verified: true });
    expect(locationOf(callback)).toBe('/catalog');
    const me = await call(server, 'GET', '/auth/me', {
      headers: { cookie: cookieHeader({ access_token: sessionOf(callback)!.value }) },
    });
    expect(me.body).toMatchObject({ id: user.id, role: 'km_admin' });
  });

  it('compares the domain case-insensitively and stores the email lower-cased', async () => {
    const local = `Mixed.Case.${Date.now()}`;
    const { callback } = await signIn({ email: `${local}@EXAMPLE.com`, email_verified: true });
    expect(locationOf(callback)).toBe('/catalog');
    expect(await server.ctx.repos.users.getByEmail(`${local.toLowerCase()}@example.com`)).toBeTruthy();
  });

  it('replaces an unsafe next with /dashboard', async () => {
    const { callback } = await signIn(
      { email: `next-${Date.now()}@example.com`, email_verified: true },
      { next: '//evil.com/steal' },
    );
    expect(locationOf(callback)).toBe('/dashboard');
  });

  it('refuses an unverified email', async () => {
    const email = `unverified-${Date.now()}@example.com`;
    expectRefusal((await signIn({ email, email_verified: false })).callback, 'email_not_verified');
    expectRefusal((await signIn({ email })).callback, 'email_not_verified');
    expect(await server.ctx.repos.users.getByEmail(email)).toBeUndefined();
  });

  it.each([
    ['another domain', 'mallory@evil.org'],
    ['a subdomain of an allowed one', 'mallory@sub.example.com'],
    ['an allowed domain as a prefix', 'mallory@example.com.evil.org'],
    ['an allowed domain inside the local part', 'example.com@evil.org'],
  ])('refuses %s with domain_not_allowed', async (_name, email) => {
    const { callback } = await signIn({ email, email_verified: true });
    expectRefusal(callback, 'domain_not_allowed');
    expect(await server.ctx.repos.users.getByEmail(email)).toBeUndefined();
  });

  it('refuses a deactivated user and a service account with account_disabled', async () => {
    const inactive = await createUser(server.ctx, 'analyst', {
      email: `inactive-${Date.now()}@example.com`,
      active: false,
    });
    expectRefusal(
      (await signIn({ email: inactive.email, email_verified: true })).callback,
      'account_disabled',
    );
    const service = await createUser(server.ctx, 'admin', {
      email: `svc-${Date.now()}@example.com`,
      service: true,
    });
    expectRefusal(
      (await signIn({ email: service.email, email_verified: true })).callback,
      'account_disabled',
    );
  });

  it('refuses a callback whose state does not match the cookie', async () => {
    const { callback } = await signIn(
      { email: `state-${Date.now()}@example.com`, email_verified: true },
      { callbackQuery: (query) => query.set('state', 'attacker-chosen-state-value') },
    );
    expectRefusal(callback, 'oauth_failed');
  });

  it('refuses a callback without the flow cookie, or with the cookie of another flow', async () => {
    const email = `cookie-${Date.now()}@example.com`;
    expectRefusal((await signIn({ email, email_verified: true }, { cookie: null })).callback, 'oauth_failed');
    // A genuine cookie, but of a different login (other state, nonce and verifier).
    const foreign = (await start(server)).cookie.value;
    expectRefusal(
      (await signIn({ email, email_verified: true }, { cookie: foreign })).callback,
      'oauth_failed',
    );
    expect(await server.ctx.repos.users.getByEmail(email)).toBeUndefined();
  });

  it('refuses a tampered or expired flow cookie (max age 10 minutes)', async () => {
    const key = deriveKey(TEST_JWT_SECRET, 'oidc-state');
    const email = `age-${Date.now()}@example.com`;
    type Flow = { state: string; nonce: string; verifier: string; next: string; created_at: number };
    const decode = (value: string) =>
      JSON.parse(Buffer.from(value.split('.')[0]!, 'base64url').toString()) as Flow;

    // Re-signing the same content with the purpose key is accepted (control) ...
    const control = await start(server);
    accountCounter += 1;
    oidc.accounts.set(`account-${accountCounter}`, { email, email_verified: true });
    const controlBack = await oidc.authorize(control.authorization.href, `account-${accountCounter}`);
    const resigned = signValue(key, decode(control.cookie.value));
    const ok = await call(server, 'GET', `/auth/google/callback${controlBack.search}`, {
      headers: { cookie: cookieHeader({ agnes_oidc: resigned }) },
    });
    expect(locationOf(ok)).toBe('/catalog');

    // ... but a flow started 11 minutes ago is not.
    const old = await start(server);
    accountCounter += 1;
    oidc.accounts.set(`account-${accountCounter}`, { email, email_verified: true });
    const oldBack = await oidc.authorize(old.authorization.href, `account-${accountCounter}`);
    const aged = signValue(key, { ...decode(old.cookie.value), created_at: Date.now() - 11 * 60_000 });
    const late = await call(server, 'GET', `/auth/google/callback${oldBack.search}`, {
      headers: { cookie: cookieHeader({ agnes_oidc: aged }) },
    });
    expectRefusal(late, 'oauth_failed');

    // Editing the cookie without the key (here: next) breaks its signature.
    const tampered = await start(server);
    const [, mac] = tampered.cookie.value.split('.');
    const body = Buffer.from(JSON.stringify({ ...decode(tampered.cookie.value), next: '/admin' })).toString(
      'base64url',
    );
    accountCounter += 1;
    oidc.accounts.set(`account-${accountCounter}`, { email, email_verified: true });
    const tamperedBack = await oidc.authorize(tampered.authorization.href, `account-${accountCounter}`);
    const forged = await call(server, 'GET', `/auth/google/callback${tamperedBack.search}`, {
      headers: { cookie: cookieHeader({ agnes_oidc: `${body}.${mac}` }) },
    });
    expectRefusal(forged, 'oauth_failed');
  });

  it('refuses a replayed authorization code', async () => {
    const { callback, flowCookie, callbackUrl } = await signIn({
      email: `replay-${Date.now()}@example.com`,
      email_verified: true,
    });
    expect(locationOf(callback)).toBe('/catalog');
    const replay = await call(server, 'GET', `/auth/google/callback${callbackUrl.search}`, {
      headers: { cookie: cookieHeader({ agnes_oidc: flowCookie }) },
    });
    expectRefusal(replay, 'oauth_failed');
  });

  it('refuses a callback carrying a provider error', async () => {
    const { authorization, cookie } = await start(server);
    const query = new URLSearchParams({
      error: 'access_denied',
      state: authorization.searchParams.get('state')!,
      iss: oidc.issuer,
    });
    const reply = await call(server, 'GET', `/auth/google/callback?${query}`, {
      headers: { cookie: cookieHeader({ agnes_oidc: cookie.value }) },
    });
    expectRefusal(reply, 'oauth_failed');
  });

  it('takes the redirect URI from server.public_url, never from Host or X-Forwarded-Host', async () => {
    const url = new URL('/auth/google/login?next=/catalog', server.url);
    const location = await new Promise<string>((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
        },
        (res) => {
          res.resume();
          resolve(String(res.headers.location ?? ''));
        },
      );
      req.on('error', reject);
      req.end();
    });
    const authorization = new URL(location);
    expect(authorization.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(location).not.toContain('evil.example');
  });

  it('answers no_account when auto_create is off, and still signs existing users in', async () => {
    const closed = await withServer({ config: googleConfig({ auto_create: false }) });
    try {
      const email = `stranger-${Date.now()}@example.com`;
      expectRefusal(
        (await signIn({ email, email_verified: true }, { target: closed })).callback,
        'no_account',
      );
      expect(await closed.ctx.repos.users.getByEmail(email)).toBeUndefined();
      const user = await createUser(closed.ctx, 'analyst', { email: `member-${Date.now()}@example.com` });
      const { callback } = await signIn({ email: user.email, email_verified: true }, { target: closed });
      expect(locationOf(callback)).toBe('/catalog');
    } finally {
      await closed.close();
    }
  });

  it('is off without allowed domains (or without a client): both routes redirect to google_not_configured', async () => {
    for (const config of [
      googleConfig({ allowed_domains: [] }),
      googleConfig({ client_secret: undefined }),
      { server: { public_url: PUBLIC_URL } },
    ]) {
      const off = await withServer({ config });
      try {
        const login = await call(off, 'GET', '/auth/google/login?next=/catalog');
        expectRefusal(login, 'google_not_configured');
        expect(setCookie(login.headers, 'agnes_oidc')).toBeUndefined();
        const callback = await call(off, 'GET', '/auth/google/callback?code=abc&state=def');
        expectRefusal(callback, 'google_not_configured');
      } finally {
        await off.close();
      }
    }
  });
});

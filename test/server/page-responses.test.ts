import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, type TestUser, withServer } from '../support/server.js';
import { type Shop, setupShop } from '../support/shop.js';
import { cookieHeader, csrfToken, setCookie } from './auth/helpers.js';

/**
 * 09 §1 for every client, not only browsers: pages answer as pages whatever `Accept` says, and
 * JSON stays for the API and the auth routes.
 */

const ACCEPTS: Record<string, Record<string, string>> = {
  'no Accept header': {},
  'Accept: */*': { accept: '*/*' },
  'Accept: application/json': { accept: 'application/json' },
};

describe.each(Object.entries(ACCEPTS))('pages with %s', (_, headers) => {
  let server: TestServer;
  let shop: Shop;
  let viewer: TestUser;

  beforeAll(async () => {
    server = await withServer();
    shop = await setupShop(server);
    viewer = await createUser(server.ctx, 'viewer');
  });
  afterAll(async () => server.close());

  const signedIn = (user: TestUser) => ({ ...headers, authorization: user.auth });
  const isHtml = (reply: { headers: Headers }) => reply.headers.get('content-type')?.startsWith('text/html');

  it('sends an anonymous visitor to sign in and back, path and query kept', async () => {
    const reply = await call(server, 'GET', '/catalog?q=ord&access=locked', { headers });
    expect(reply.status).toBe(302);
    expect(reply.headers.get('location')).toBe(
      `/login?next=${encodeURIComponent('/catalog?q=ord&access=locked')}`,
    );
    const dashboard = await call(server, 'GET', '/dashboard', { headers });
    expect(dashboard.headers.get('location')).toBe('/login?next=%2Fdashboard');
  });

  it('answers an insufficient role with the 403 page', async () => {
    for (const [user, path] of [
      [shop.analyst, '/admin/users'],
      [viewer, '/sql'],
    ] as const) {
      const reply = await call(server, 'GET', path, { headers: signedIn(user) });
      expect(reply.status, path).toBe(403);
      expect(isHtml(reply), path).toBe(true);
      expect(reply.text).toContain('Access denied');
    }
  });

  it('answers a missing or invisible table and an unknown path with the 404 page', async () => {
    for (const path of ['/catalog/does_not_exist', '/catalog/secret_salaries', '/no-such-page']) {
      const reply = await call(server, 'GET', path, { headers: signedIn(shop.analyst) });
      expect(reply.status, path).toBe(404);
      expect(isHtml(reply), path).toBe(true);
      expect(reply.text).toContain('Page not found');
      expect(reply.text).not.toContain('secret_salaries');
    }
  });

  it('keeps JSON for /api/* and /auth/*, even when HTML is accepted', async () => {
    for (const path of ['/api/no-such-route', '/auth/no-such-route', '/api/catalog/tables/secret_salaries']) {
      const reply = await call(server, 'GET', path, {
        headers: { ...signedIn(shop.analyst), accept: 'text/html' },
      });
      expect(reply.status, path).toBe(404);
      expect(reply.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(reply.body.code).toBe('not_found');
    }
    const anonymous = await call(server, 'GET', '/api/catalog/tables', { headers });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('unauthorized');
  });

  it('sends a page to sign in after logout', async () => {
    const csrf = await csrfToken(server);
    const login = await call(server, 'POST', '/auth/password/login', {
      form: { email: shop.analyst.email, password: shop.analyst.password, _csrf: csrf },
      headers: { cookie: cookieHeader({ agnes_csrf: csrf }) },
    });
    const session = setCookie(login.headers, 'access_token')?.value as string;
    const cookie = cookieHeader({ agnes_csrf: csrf, access_token: session });
    expect((await call(server, 'GET', '/dashboard', { headers: { ...headers, cookie } })).status).toBe(200);
    const logout = await call(server, 'POST', '/auth/logout', {
      form: { _csrf: csrf },
      headers: { cookie },
    });
    expect(logout.status).toBeLessThan(400);
    const after = await call(server, 'GET', '/dashboard', { headers: { ...headers, cookie } });
    expect(after.status).toBe(302);
    expect(after.headers.get('location')).toBe('/login?next=%2Fdashboard');
  });
});

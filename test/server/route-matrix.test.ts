import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Role } from '../../src/core/state/schema.js';
import type { AuthLabel } from '../../src/server/app.js';
import { generatePat } from '../../src/server/auth/pat.js';
import type { RouteEntry } from '../../src/server/plugins/route-auth.js';
import { issueEvent, sendWebhook } from '../fakes/jira.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

/**
 * S2 (10 §3): every route × every kind of caller, generated from the app's own route table, so a
 * new route is covered the moment it exists. Only the authorisation outcome is judged here: a
 * caller the label admits must not get 401 or `forbidden_role`; others must.
 */

type Caller = 'anonymous' | Role | 'service' | 'service_admin';
const HMAC_SECRET = 'route-matrix-webhook-secret-0123456789';
const CALLERS: Caller[] = ['anonymous', 'viewer', 'analyst', 'km_admin', 'admin', 'service', 'service_admin'];
const LEVEL: Record<Role, number> = { viewer: 0, analyst: 1, km_admin: 2, admin: 3 };

/** Who a route admits; the service callers are service accounts with role viewer and admin. */
function admits(route: Pick<RouteEntry, 'auth' | 'serviceRole'>, caller: Caller): boolean {
  const label: AuthLabel = route.auth;
  if (label === 'anon') return true;
  if (caller === 'anonymous') return false;
  const role: Role = caller === 'service' ? 'viewer' : caller === 'service_admin' ? 'admin' : caller;
  switch (label) {
    case 'user':
    case 'owner':
      return true;
    case 'analyst+':
      return LEVEL[role] >= LEVEL.analyst;
    case 'km_admin+':
      return LEVEL[role] >= LEVEL.km_admin;
    case 'admin':
      return role === 'admin';
    case 'service':
      return (
        (caller === 'service' || caller === 'service_admin') &&
        LEVEL[role] >= LEVEL[route.serviceRole ?? 'viewer']
      );
    case 'hmac':
      return true;
  }
}

/** Concrete path for a route pattern: ids that exist nowhere, table ids that look real. */
function concrete(url: string): string {
  return url.replace(/:([A-Za-z_]+)/g, (_, name: string) =>
    name.endsWith('_id') && name !== 'table_id' ? randomUUID() : 'orders',
  );
}

describe('route × role matrix (S2)', () => {
  let server: TestServer;
  let routes: RouteEntry[];
  const users = new Map<Caller, TestUser>();

  beforeAll(async () => {
    server = await withServer({
      config: {
        auth: { rate_limits: { default: { max: 100_000, window_seconds: 60 } } },
        // Live notifications on, so the ticket route answers rather than 503 not_configured.
        ws_gateway: { public_url: 'ws://127.0.0.1:9/ws' },
        // Configured but never called: the worker does not run here, and the routes only queue.
        jira: {
          base_url: 'http://127.0.0.1:9',
          email: 'bot@example.com',
          api_token: 'jira-token-0123456789',
          webhook_secret: HMAC_SECRET,
        },
      },
    });
    for (const role of ['viewer', 'analyst', 'km_admin', 'admin'] as const)
      users.set(role, await createUser(server.ctx, role));
    users.set('service', await createUser(server.ctx, 'viewer', { service: true }));
    users.set('service_admin', await createUser(server.ctx, 'admin', { service: true }));
    routes = server.app.agnesRoutes.filter(
      (r) => r.method !== 'HEAD' && r.auth !== 'hmac' && !r.url.startsWith('/docs'),
    );
  });
  afterAll(async () => server.close());

  /** A fresh PAT per call: a route such as logout revokes the credential it was called with. */
  async function credential(caller: Caller): Promise<string | undefined> {
    const user = users.get(caller);
    if (!user) return undefined;
    const pat = generatePat();
    await server.ctx.repos.tokens.create({
      user_id: user.id,
      name: `matrix ${randomUUID()}`,
      token_hash: pat.hash,
      prefix: pat.prefix,
      expires_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    return `Bearer ${pat.token}`;
  }

  it('declares an auth label on every route, and the table is not empty', () => {
    expect(routes.length).toBeGreaterThan(10);
    for (const route of server.app.agnesRoutes)
      expect(route.auth, `${route.method} ${route.url}`).toBeTruthy();
  });

  it('gives every caller the outcome its label prescribes, on every route', async () => {
    const failures: string[] = [];
    for (const route of routes) {
      for (const caller of CALLERS) {
        const auth = await credential(caller);
        const withBody = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(route.method) && route.hasBody;
        const path = concrete(route.url);
        const response = await call(server, route.method, path, {
          auth,
          body: withBody ? {} : undefined,
        });
        // Pages refuse as pages (09 §1): a sign-in redirect, or the 403 HTML page.
        const toSignIn =
          response.status === 302 && response.headers.get('location')?.startsWith('/login?next=');
        const pageRefusal =
          route.page &&
          (toSignIn ||
            (response.status === 403 && response.headers.get('content-type')?.startsWith('text/html')));
        const denied =
          response.status === 401 ||
          (response.status === 403 && response.body?.code === 'forbidden_role') ||
          response.body?.code === 'forbidden' ||
          pageRefusal;
        const expected = admits(route, caller);
        if (response.status >= 500)
          failures.push(`${route.method} ${route.url} as ${caller}: ${response.status}`);
        else if (expected && denied)
          failures.push(`${route.method} ${route.url} as ${caller}: refused with ${response.status}`);
        else if (!expected && !denied)
          failures.push(`${route.method} ${route.url} as ${caller}: allowed with ${response.status}`);
        else if (!expected && caller === 'anonymous' && route.page) {
          if (response.headers.get('location') !== `/login?next=${encodeURIComponent(path)}`)
            failures.push(`${route.method} ${route.url} anonymous: not sent to sign in and back`);
        } else if (!expected && caller === 'anonymous' && response.status !== 401) {
          failures.push(`${route.method} ${route.url} anonymous: ${response.status} instead of 401`);
        }
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('admits hmac routes by their signature alone: every credential without one is refused', async () => {
    const hmacRoutes = server.app.agnesRoutes.filter((r) => r.auth === 'hmac');
    expect(hmacRoutes.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /webhooks/jira']);
    const event = issueEvent('jira:issue_updated', { id: '10001', key: 'SUP-1' });
    const failures: string[] = [];
    for (const route of hmacRoutes) {
      for (const caller of CALLERS) {
        const auth = await credential(caller);
        const response = await call(server, route.method, route.url, { auth, body: event });
        if (response.status !== 401 || response.body?.code !== 'invalid_signature')
          failures.push(`${route.method} ${route.url} as ${caller}: ${response.status}`);
      }
      const signed = await sendWebhook(server.url, event, { secret: HMAC_SECRET });
      if (signed.status !== 200) failures.push(`${route.method} ${route.url} signed: ${signed.status}`);
    }
    expect(failures).toEqual([]);
  });

  it('refuses unknown body fields with 422 on every write route (S15)', async () => {
    const failures: string[] = [];
    for (const route of routes.filter(
      (r) => r.hasBody && ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method),
    )) {
      const caller: Caller = route.auth === 'service' ? 'service_admin' : 'admin';
      const response = await call(server, route.method, concrete(route.url), {
        auth: route.auth === 'anon' ? undefined : await credential(caller),
        body: { unexpected_field_for_mass_assignment: true },
      });
      if (response.status !== 422) failures.push(`${route.method} ${route.url}: ${response.status}`);
    }
    expect(failures).toEqual([]);
  }, 60_000);

  it('lists every JSON route in the OpenAPI document with the same auth label', async () => {
    const doc = (await call(server, 'GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    const missing: string[] = [];
    for (const route of routes) {
      // @fastify/swagger names a wildcard `{*}`.
      const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}').replace(/\*$/, '{*}');
      const operation = doc.paths[path]?.[route.method.toLowerCase()];
      const hidden =
        route.url === '/openapi.json' ||
        route.hidden ||
        (route.method === 'GET' &&
          operation === undefined &&
          /^\/auth\/(email\/verify|password\/(setup|reset)|google\/)/.test(route.url));
      if (hidden) continue;
      if (!operation) missing.push(`${route.method} ${route.url}`);
      else if (operation['x-agnes-auth'] !== route.auth)
        missing.push(`${route.method} ${route.url}: label ${String(operation['x-agnes-auth'])}`);
    }
    expect(missing).toEqual([]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/jobs/logger.js';
import { profileTables } from '../../src/core/jobs/profile-tables.js';
import { publishShop, rawRequest } from '../server/api/sync-fixtures.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

/**
 * Object-level authorisation (S3) and hostile identifiers (S5) on every path that names a table,
 * over the small access fixture of 10 §4 (`publishShop`). The table-id routes are taken from the
 * app's own route table, so a new route that names a table is covered the moment it exists.
 */

/** Ids as an attacker sends them: traversal, globs, NUL, encodings, and spellings of real ids. */
const HOSTILE_IDS = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E%2F%2E%2E',
  '..%2F..',
  '..%2F..%2Fstate%2Fsystem.sqlite',
  '..%2Fextracts%2Fshop%2Fextract.duckdb',
  '%252e%252e%252f%252e%252e',
  '..%5C..%5Cstate',
  '*',
  '%2A',
  'salar*',
  'salar%2A',
  'sal%3Faries',
  'salaries%00',
  '%00',
  'orders%00.parquet',
  'orders%2F..%2Fsalaries',
  'SALARIES',
  '_meta',
  '%20salaries',
];

/** Shard names of the same kinds, sent for the readable multi-file table `events`. */
const HOSTILE_FILES = [
  '..',
  '%2e%2e',
  '..%2F..%2Fextract.duckdb',
  '..%2F..%2F..%2Fstate%2Fsystem.sqlite',
  '*',
  '*.parquet',
  'part-%2A.parquet',
  'part-0.parquet%00',
  '%00',
  'events%2Fpart-0.parquet',
  '.hidden.parquet',
];

/** What must never appear in an answer to a hostile id: file bytes, state files, server paths. */
function leaks(server: TestServer, body: Buffer): string[] {
  // Random values of an error page (style nonce, CSRF field, request id) can spell `PAR1` by chance.
  const text = body
    .toString('latin1')
    .replace(/(nonce|value)="[^"]*"|Request id: \S+|"request_id":"[^"]*"/g, '');
  return ['PAR1', 'SQLite format', 'DUCK', server.dataDir].filter((needle) => text.includes(needle));
}

describe('table paths: object-level authorisation (S3) and hostile ids (S5)', () => {
  let server: TestServer;
  let admin: TestUser;
  let reader: TestUser;

  beforeAll(async () => {
    server = await withServer({
      config: { auth: { rate_limits: { default: { max: 100_000, window_seconds: 60 } } } },
    });
    await publishShop(server.ctx, server.dataDir);
    const report = await profileTables(
      {
        repos: server.ctx.repos,
        dataDir: server.dataDir,
        options: server.ctx.config.profiler,
        log: silentLogger,
      },
      null,
      { force: true },
    );
    expect(report.failed).toEqual([]);
    admin = await createUser(server.ctx, 'admin');
    reader = await createUser(server.ctx, 'analyst');
    for (const dataset of ['orders', 'events'])
      await server.ctx.repos.permissions.grantUser(reader.id, {
        dataset,
        access: 'read',
        granted_by: admin.id,
      });
  });
  afterAll(async () => server.close());

  it('every table path follows the access function: granted, public, group, bucket, revoked, non-discoverable, unregistered (S3)', async () => {
    const subject = await createUser(server.ctx, 'analyst');
    const grant = (dataset: string) => ({ dataset, access: 'read' as const, granted_by: admin.id });
    await server.ctx.repos.permissions.grantUser(subject.id, grant('orders'));
    await server.ctx.repos.permissions.grantUser(subject.id, grant('sales.*'));
    await server.ctx.repos.permissions.grantUser(subject.id, grant('salaries'));
    await server.ctx.repos.permissions.revokeUser(subject.id, 'salaries');
    const group = await server.ctx.repos.groups.create({ name: 'web-readers', description: '' });
    await server.ctx.repos.groups.addMember(group.id, subject.id, admin.id);
    await server.ctx.repos.permissions.grantGroup(group.id, grant('events'));

    type Expect = 'read' | 'locked' | 'hidden';
    const cases: Record<string, Expect> = {
      orders: 'read', // direct grant
      refunds: 'read', // bucket grant sales.*
      events: 'read', // group grant
      holidays: 'read', // public
      salaries: 'locked', // granted, then revoked
      secret_plans: 'hidden', // not discoverable
      scratch: 'hidden', // published, never registered
    };
    const get = (path: string) => call(server, 'GET', path, { auth: subject.auth });
    const statusFor = (expected: Expect, read: number) =>
      expected === 'read' ? read : expected === 'locked' ? 403 : 404;

    const manifest = Object.keys((await get('/api/sync/manifest')).body.tables).sort();
    const listed = new Map<string, string>(
      (await get('/api/catalog/tables?include_locked=true')).body.tables.map(
        (t: { id: string; access: string }) => [t.id, t.access],
      ),
    );
    for (const [table, expected] of Object.entries(cases)) {
      const label = `${table} (${expected})`;
      expect(manifest.includes(table), label).toBe(expected === 'read');
      expect(listed.get(table), label).toBe(
        expected === 'read' ? 'read' : expected === 'locked' ? 'none' : undefined,
      );
      expect((await get(`/api/catalog/tables/${table}`)).status, label).toBe(
        expected === 'hidden' ? 404 : 200,
      );
      expect((await get(`/api/catalog/profile/${table}`)).status, label).toBe(statusFor(expected, 200));
      expect((await get(`/api/catalog/tables/${table}/preview`)).status, label).toBe(
        statusFor(expected, 200),
      );
      const file = table === 'events' ? 'files/part-0.parquet' : 'download';
      const data = await rawRequest(server, 'GET', `/api/data/${table}/${file}`, {
        authorization: subject.auth,
      });
      expect(data.status, label).toBe(statusFor(expected, 200));
      expect(data.body.includes(Buffer.from('PAR1')), label).toBe(expected === 'read');
      const query = await call(server, 'POST', '/api/query', {
        auth: subject.auth,
        body: { sql: `SELECT count(*) AS n FROM ${table}` },
      });
      if (expected === 'read') expect(query.status, label).toBe(200);
      else expect([400, 403], label).toContain(query.status);
      if (expected !== 'read')
        expect((await get(`/api/sync/history?table_id=${table}`)).body.entries, label).toEqual([]);
      const requested = await call(server, 'POST', '/api/access-requests', {
        auth: subject.auth,
        body: { table_id: table },
      });
      expect(requested.status, label).toBe(expected === 'read' ? 409 : expected === 'locked' ? 201 : 404);
    }

    // Dataset settings and subscriptions: only datasets and tables the subject can read.
    const setting = (dataset: string) =>
      call(server, 'PUT', '/api/settings/dataset', { auth: subject.auth, body: { dataset, enabled: true } });
    expect((await setting('web')).status).toBe(200);
    expect((await setting('hr')).status).toBe(403);
    const subscribe = (dataset: string, table: string) =>
      call(server, 'POST', '/api/sync/table-subscriptions', {
        auth: subject.auth,
        body: { dataset, table_mode: 'selected', tables: [table] },
      });
    expect((await subscribe('web', 'events')).status).toBe(200);
    expect((await subscribe('hr', 'salaries')).status).toBe(403);
    expect((await subscribe('hr', 'secret_plans')).status).toBe(403);
  });

  const VALID_POST_BODIES: Record<string, string> = {
    '/api/admin/tables/:table_id/policies': JSON.stringify({
      name: 'hostile id',
      applies_to: { everyone: true, users: [], groups: [] },
    }),
  };

  it('answers 404 (403 for a role refusal) with no bytes to hostile ids on every table-id and file route, and changes nothing', async () => {
    const routes = server.app.agnesRoutes.filter(
      (r) => r.method !== 'HEAD' && (r.url.includes(':table_id') || r.url.includes(':file')),
    );
    // The data, catalog, profile, preview and registry routes at least; the web page when present.
    expect(routes.length).toBeGreaterThanOrEqual(8);
    const registryBefore = (await server.ctx.repos.registry.list()).map((r) => r.id);
    const profilesBefore = (await server.ctx.repos.profiles.list()).map((p) => p.table_id);
    const jobsBefore = (await server.ctx.repos.jobs.list({}, { page: 1, per_page: 200 })).total;

    for (const route of routes) {
      const paths = [
        ...HOSTILE_IDS.map((id) => route.url.replace(':table_id', id).replace(':file', 'part-0.parquet')),
        ...(route.url.includes(':file')
          ? HOSTILE_FILES.map((file) => route.url.replace(':table_id', 'events').replace(':file', file))
          : []),
      ];
      // A body valid for the route, so the answer is about the id (an invalid body is a 422 first).
      const body =
        route.method === 'PUT'
          ? JSON.stringify({ description: 'changed' })
          : (VALID_POST_BODIES[route.url] ?? undefined);
      for (const caller of [admin, reader]) {
        for (const path of paths) {
          const response = await rawRequest(server, route.method, path, { authorization: caller.auth }, body);
          const label = `${caller.role} ${route.method} ${path}`;
          // Role checks come first: an admin route refuses the analyst before looking at the id.
          const expected = route.auth === 'admin' && caller !== admin ? 403 : 404;
          expect(response.status, label).toBe(expected);
          expect(leaks(server, response.body), label).toEqual([]);
        }
      }
    }

    expect((await server.ctx.repos.registry.list()).map((r) => r.id)).toEqual(registryBefore);
    expect((await server.ctx.repos.profiles.list()).map((p) => p.table_id)).toEqual(profilesBefore);
    expect((await server.ctx.repos.jobs.list({}, { page: 1, per_page: 200 })).total).toBe(jobsBefore);
    expect((await server.ctx.repos.registry.get('salaries'))?.description).toBeNull();
  });

  it('treats wildcards in query and body table ids as plain names that match nothing', async () => {
    for (const id of ['*', 'salar*', 'salaries%', '%', '_alaries']) {
      const history = await call(server, 'GET', `/api/sync/history?table_id=${encodeURIComponent(id)}`, {
        auth: reader.auth,
      });
      expect(history.status, id).toBe(200);
      expect(history.body.entries, id).toEqual([]);
      const requested = await call(server, 'POST', '/api/access-requests', {
        auth: reader.auth,
        body: { table_id: id },
      });
      expect([404, 422], id).toContain(requested.status);
      const subscribed = await call(server, 'POST', '/api/sync/table-subscriptions', {
        auth: reader.auth,
        body: { dataset: 'hr', table_mode: 'selected', tables: [id] },
      });
      expect([403, 422], id).toContain(subscribed.status);
      const triggered = await call(server, 'POST', '/api/sync/trigger', { auth: admin.auth, body: [id] });
      expect(triggered.status, id).toBe(422);
      expect(triggered.body.code, id).toBe('unknown_tables');
    }
    const pending = await server.ctx.repos.accessRequests.list(
      { user_id: reader.id },
      { page: 1, per_page: 50 },
    );
    expect(pending.total).toBe(0);
  });
});

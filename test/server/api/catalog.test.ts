import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/jobs/logger.js';
import { profileTables } from '../../../src/core/jobs/profile-tables.js';
import { makeExtract } from '../../support/extracts.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

/**
 * The catalog API (03 §7 without preview): listing, detail, profiles, refresh and metrics, with
 * the visibility matrix of S3 and the metric-path cases of S5.
 */

const SECRET = 'TOP-SECRET-CONTENT-7f3a';

/** Tables of the access matrix; each is published by the `shop` extract. */
const MATRIX = [
  't_granted',
  't_public',
  't_group',
  't_bucket',
  't_locked',
  't_hidden',
  't_unreg',
  't_revoked',
];
/** What the matrix analyst may do with each table. */
const EXPECTED: Record<string, { readable: boolean; discoverable: boolean }> = {
  t_granted: { readable: true, discoverable: true },
  t_public: { readable: true, discoverable: true },
  t_group: { readable: true, discoverable: true },
  t_bucket: { readable: true, discoverable: true },
  t_locked: { readable: false, discoverable: true },
  t_hidden: { readable: false, discoverable: false },
  t_unreg: { readable: false, discoverable: false },
  t_revoked: { readable: false, discoverable: true },
};

/** A GET whose path is sent byte for byte (fetch would resolve `..` and `//` first). */
function rawGet(server: TestServer, path: string, auth: string): Promise<{ status: number; text: string }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method: 'GET', headers: { authorization: auth } },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function writeMetric(server: TestServer, path: string, content: string): Promise<void> {
  const file = join(server.dataDir, 'docs', 'metrics', path);
  await mkdir(join(file, '..'), { recursive: true });
  await writeFile(file, content);
}

describe('catalog API (/api/catalog)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;
  let viewer: TestUser;

  const profileDeps = () => ({
    repos: server.ctx.repos,
    dataDir: server.dataDir,
    options: server.ctx.config.profiler,
    log: silentLogger,
  });

  beforeAll(async () => {
    server = await withServer();
    [admin, analyst, viewer] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'viewer'),
    ]);
    await makeExtract(join(server.dataDir, 'extracts'), 'shop', [
      {
        name: 'customers',
        select: `SELECT range AS customer_id, 'c' || range AS name FROM range(5)`,
        description: 'Customers from _meta',
      },
      {
        name: 'orders',
        select: 'SELECT range AS order_id, range % 5 AS customer_id, range * 1.5 AS amount FROM range(20)',
      },
      ...MATRIX.map((name) => ({ name })),
    ]);
    const { repos } = server.ctx;
    const register = (id: string, extra: Record<string, unknown> = {}) =>
      repos.registry.register({ id, name: id, source: 'shop', source_type: 'local', ...extra });
    await register('customers', { primary_key: 'customer_id', bucket: 'crm' });
    await register('orders', { primary_key: 'order_id', bucket: 'sales', description: 'All orders' });
    await register('t_granted');
    await register('t_public', { is_public: true });
    await register('t_group');
    await register('t_bucket', { bucket: 'fin' });
    await register('t_locked', { description: 'Locked but discoverable' });
    await register('t_hidden', { is_discoverable: false });
    await register('t_revoked');
    await register('remote_events', { query_mode: 'remote' });
    await register('never_synced');

    const grant = (dataset: string, userId = analyst.id) =>
      repos.permissions.grantUser(userId, { dataset, access: 'read', granted_by: admin.id });
    await grant('t_granted');
    await grant('orders');
    await grant('fin.*');
    await grant('t_revoked');
    await repos.permissions.revokeUser(analyst.id, 't_revoked');
    await grant('t_locked', viewer.id);
    const group = await repos.groups.create({ name: 'Readers' });
    await repos.groups.addMember(group.id, analyst.id, admin.id);
    await repos.permissions.grantGroup(group.id, {
      dataset: 't_group',
      access: 'read',
      granted_by: admin.id,
    });

    // One metric per matrix table, one over two tables, one over a readable table only.
    for (const table of MATRIX)
      await writeMetric(server, `matrix/${table}.yml`, `name: ${table}_count\ntable: ${table}\n`);
    await writeMetric(
      server,
      'sales/revenue.yml',
      'name: revenue\ndisplay_name: Revenue\ngrain: day\ntables: [orders, customers]\nexpression: sum(amount)\n',
    );
    await writeMetric(server, 'sales/order_count.yml', 'name: order_count\ntable: orders\ngrain: month\n');

    await server.ctx.orchestrator.rebuild();
    const report = await profileTables(profileDeps(), null, { force: true });
    expect(report.failed).toEqual([]);
  });
  afterAll(async () => server.close());

  describe('GET /api/catalog/tables', () => {
    it('lists readable tables with data fields, and locked discoverable ones only on request', async () => {
      const plain = await call(server, 'GET', '/api/catalog/tables', { auth: analyst.auth });
      expect(plain.status).toBe(200);
      const ids = plain.body.tables.map((t: { id: string }) => t.id);
      expect(ids).toEqual(['orders', 't_bucket', 't_granted', 't_group', 't_public']);
      expect(plain.body.count).toBe(5);
      const orders = plain.body.tables[0];
      expect(orders).toMatchObject({
        id: 'orders',
        name: 'orders',
        description: 'All orders',
        source: 'shop',
        source_type: 'local',
        dataset: 'sales',
        bucket: 'sales',
        query_mode: 'local',
        sync_strategy: 'full_refresh',
        access: 'read',
        rows: 20,
        has_profile: true,
      });
      expect(orders.size_bytes).toBeGreaterThan(0);
      expect(orders.updated).toMatch(/Z$/);

      const locked = await call(server, 'GET', '/api/catalog/tables?include_locked=true', {
        auth: analyst.auth,
      });
      const byId = new Map(locked.body.tables.map((t: { id: string }) => [t.id, t]));
      expect([...byId.keys()]).toEqual([
        'customers',
        'never_synced',
        'orders',
        'remote_events',
        't_bucket',
        't_granted',
        't_group',
        't_locked',
        't_public',
        't_revoked',
      ]);
      const lockedRow = byId.get('t_locked') as Record<string, unknown>;
      expect(lockedRow.access).toBe('none');
      expect(lockedRow.description).toBe('Locked but discoverable');
      for (const key of ['rows', 'size_bytes', 'updated', 'has_profile'])
        expect(lockedRow).not.toHaveProperty(key);
    });

    it('marks a table with a pending access request as pending', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const requested = await call(server, 'POST', '/api/access-requests', {
        auth: user.auth,
        body: { table_id: 't_locked' },
      });
      expect(requested.status).toBe(201);
      const list = await call(server, 'GET', '/api/catalog/tables?include_locked=true', { auth: user.auth });
      const access = Object.fromEntries(
        list.body.tables.map((t: { id: string; access: string }) => [t.id, t.access]),
      );
      expect(access.t_locked).toBe('pending');
      expect(access.t_revoked).toBe('none');
      expect(access.t_public).toBe('read');
      const detail = await call(server, 'GET', '/api/catalog/tables/t_locked', { auth: user.auth });
      expect(detail.body.access).toBe('pending');
    });

    it('filters by search, source and dataset', async () => {
      const search = await call(server, 'GET', '/api/catalog/tables?search=ALL%20ORD', {
        auth: analyst.auth,
      });
      expect(search.body.tables.map((t: { id: string }) => t.id)).toEqual(['orders']);
      const dataset = await call(server, 'GET', '/api/catalog/tables?dataset=default', {
        auth: analyst.auth,
      });
      expect(dataset.body.tables.map((t: { id: string }) => t.id)).toEqual([
        't_granted',
        't_group',
        't_public',
      ]);
      const source = await call(server, 'GET', '/api/catalog/tables?source=elsewhere', { auth: admin.auth });
      expect(source.body).toEqual({ tables: [], count: 0 });
      const all = await call(server, 'GET', '/api/catalog/tables?source=shop', { auth: admin.auth });
      // Admins read every registered table; unregistered views are not in the catalog.
      expect(all.body.count).toBe(11);
      expect(all.body.tables.every((t: { access: string }) => t.access === 'read')).toBe(true);
      const bad = await call(server, 'GET', '/api/catalog/tables?include_locked=maybe', {
        auth: analyst.auth,
      });
      expect(bad.status).toBe(422);
      const unknown = await call(server, 'GET', '/api/catalog/tables?page_size=2', { auth: analyst.auth });
      expect(unknown.status).toBe(422);
      expect((await call(server, 'GET', '/api/catalog/tables')).status).toBe(401);
    });
  });

  describe('visibility matrix (S3)', () => {
    it('list, detail, profile and metric follow the access function for every case', async () => {
      const listed = await call(server, 'GET', '/api/catalog/tables?include_locked=true', {
        auth: analyst.auth,
      });
      const listedIds = new Set(listed.body.tables.map((t: { id: string }) => t.id));
      const metrics = await call(server, 'GET', '/api/catalog/metrics', { auth: analyst.auth });
      const metricPaths = new Set(metrics.body.metrics.map((m: { path: string }) => m.path));
      for (const table of MATRIX) {
        const { readable, discoverable } = EXPECTED[table]!;
        const visible = readable || discoverable;
        expect(listedIds.has(table), `${table} listed`).toBe(visible);
        const detail = await call(server, 'GET', `/api/catalog/tables/${table}`, { auth: analyst.auth });
        expect(detail.status, `${table} detail`).toBe(visible ? 200 : 404);
        if (visible) expect(detail.body.access, `${table} access`).toBe(readable ? 'read' : 'none');
        const profile = await call(server, 'GET', `/api/catalog/profile/${table}`, { auth: analyst.auth });
        expect(profile.status, `${table} profile`).toBe(readable ? 200 : visible ? 403 : 404);
        if (!readable) expect(profile.text).not.toContain('sample_rows');
        const metric = await call(server, 'GET', `/api/catalog/metrics/matrix/${table}.yml`, {
          auth: analyst.auth,
        });
        expect(metric.status, `${table} metric`).toBe(readable ? 200 : 403);
        expect(metricPaths.has(`matrix/${table}.yml`), `${table} metric listed`).toBe(readable);
      }
    });

    it('admins read every registered table and the profile of an unregistered view', async () => {
      for (const table of MATRIX.filter((t) => t !== 't_unreg')) {
        const detail = await call(server, 'GET', `/api/catalog/tables/${table}`, { auth: admin.auth });
        expect(detail.status, table).toBe(200);
        expect(detail.body.access).toBe('read');
      }
      expect((await call(server, 'GET', '/api/catalog/tables/t_unreg', { auth: admin.auth })).status).toBe(
        404,
      );
      expect((await call(server, 'GET', '/api/catalog/profile/t_unreg', { auth: admin.auth })).status).toBe(
        200,
      );
      const metrics = await call(server, 'GET', '/api/catalog/metrics', { auth: admin.auth });
      expect(metrics.body.count).toBe(MATRIX.length + 2);
    });

    it('a grant to another user does not leak: the viewer reads t_locked, the analyst does not', async () => {
      const viewerProfile = await call(server, 'GET', '/api/catalog/profile/t_locked', { auth: viewer.auth });
      expect(viewerProfile.status).toBe(200);
      const analystProfile = await call(server, 'GET', '/api/catalog/profile/t_locked', {
        auth: analyst.auth,
      });
      expect(analystProfile.status).toBe(403);
      expect(analystProfile.body.code).toBe('table_forbidden');
    });
  });

  describe('GET /api/catalog/tables/:table_id', () => {
    it('gives readers columns from the profile, key and sync info', async () => {
      const detail = await call(server, 'GET', '/api/catalog/tables/orders', { auth: analyst.auth });
      expect(detail.status).toBe(200);
      expect(detail.body).toMatchObject({
        id: 'orders',
        access: 'read',
        primary_key: ['order_id'],
        has_profile: true,
        columns: [
          { name: 'order_id', type: 'BIGINT', description: null, tags: [] },
          { name: 'customer_id', type: 'BIGINT', description: null, tags: [] },
          { name: 'amount', type: 'DECIMAL(21,1)', description: null, tags: [] },
        ],
        sync: { status: 'ok', layout: 'single', query_mode: 'local', rows: 20, file_count: 1, error: null },
      });
      expect(detail.body.profiled_at).toMatch(/Z$/);
      expect(detail.text).not.toContain(server.dataDir);
    });

    it('describes the Parquet files of a published table that has no profile', async () => {
      await server.ctx.repos.profiles.delete('t_public');
      try {
        const detail = await call(server, 'GET', '/api/catalog/tables/t_public', { auth: analyst.auth });
        expect(detail.status).toBe(200);
        expect(detail.body.has_profile).toBe(false);
        expect(detail.body.profiled_at).toBeNull();
        expect(detail.body.columns.map((c: { name: string }) => c.name)).toEqual(['id', 'label', 'amount']);
      } finally {
        await profileTables(profileDeps(), ['t_public'], { force: true });
      }
    });

    it('omits columns where there is nothing to read and gives non-readers the metadata subset', async () => {
      const never = await call(server, 'GET', '/api/catalog/tables/never_synced', { auth: admin.auth });
      expect(never.status).toBe(200);
      expect(never.body).not.toHaveProperty('columns');
      expect(never.body.sync).toBeNull();
      expect(never.body.rows).toBeNull();

      const locked = await call(server, 'GET', '/api/catalog/tables/t_locked', { auth: analyst.auth });
      expect(locked.status).toBe(200);
      expect(Object.keys(locked.body).sort()).toEqual(
        [
          'access',
          'bucket',
          'dataset',
          'description',
          'id',
          'name',
          'query_mode',
          'source',
          'source_type',
          'sync_strategy',
        ].sort(),
      );
      expect((await call(server, 'GET', '/api/catalog/tables/nope', { auth: analyst.auth })).status).toBe(
        404,
      );
      const tooLong = await call(server, 'GET', `/api/catalog/tables/${'x'.repeat(101)}`, {
        auth: analyst.auth,
      });
      expect(tooLong.status).toBe(422);
    });
  });

  describe('GET /api/catalog/profile/:table_id', () => {
    it('serves the profile with profiled_at and stale, filtering related tables and metrics per reader', async () => {
      const asAdmin = await call(server, 'GET', '/api/catalog/profile/orders', { auth: admin.auth });
      expect(asAdmin.status).toBe(200);
      expect(asAdmin.body).toMatchObject({
        table_id: 'orders',
        row_count: 20,
        stale: false,
        profiler_version: 1,
      });
      expect(asAdmin.body.profiled_at).toMatch(/Z$/);
      expect(asAdmin.body.related_tables).toEqual([
        {
          table: 'customers',
          join_column: 'customer_id',
          foreign_column: 'customer_id',
          direction: 'belongs_to',
        },
      ]);
      expect(asAdmin.body.used_by_metrics).toEqual([
        { name: 'order_count', file: 'sales/order_count.yml' },
        { name: 'revenue', file: 'sales/revenue.yml' },
      ]);
      expect(asAdmin.body.sample_rows.length).toBeGreaterThan(0);

      // The analyst reads orders but not customers: the join and the two-table metric disappear.
      const asAnalyst = await call(server, 'GET', '/api/catalog/profile/orders', { auth: analyst.auth });
      expect(asAnalyst.status).toBe(200);
      expect(asAnalyst.body.related_tables).toEqual([]);
      expect(asAnalyst.body.used_by_metrics).toEqual([
        { name: 'order_count', file: 'sales/order_count.yml' },
      ]);
      expect(asAnalyst.body.columns).toHaveLength(3);
    });

    it('answers 404 for a table without a profile and for unknown tables', async () => {
      const never = await call(server, 'GET', '/api/catalog/profile/never_synced', { auth: admin.auth });
      expect(never.status).toBe(404);
      expect((await call(server, 'GET', '/api/catalog/profile/nope', { auth: admin.auth })).status).toBe(404);
      expect((await call(server, 'GET', '/api/catalog/profile/orders')).status).toBe(401);
    });
  });

  describe('POST /api/catalog/profile/:table_id/refresh', () => {
    it('queues a profile job that replaces a stale profile', async () => {
      await makeExtract(join(server.dataDir, 'extracts'), 'fresh', [{ name: 'changing', rows: 3 }]);
      await server.ctx.repos.registry.register({
        id: 'changing',
        name: 'changing',
        source: 'fresh',
        source_type: 'local',
        is_public: true,
      });
      await server.ctx.orchestrator.rebuild();
      await profileTables(profileDeps(), ['changing'], { force: true });
      const before = await call(server, 'GET', '/api/catalog/profile/changing', { auth: analyst.auth });
      expect(before.body).toMatchObject({ row_count: 3, stale: false });

      // New data: the stored profile now describes an older hash.
      await makeExtract(join(server.dataDir, 'extracts'), 'fresh', [{ name: 'changing', rows: 7 }]);
      await server.ctx.orchestrator.rebuild();
      const stale = await call(server, 'GET', '/api/catalog/profile/changing', { auth: analyst.auth });
      expect(stale.body).toMatchObject({ row_count: 3, stale: true });

      const refresh = await call(server, 'POST', '/api/catalog/profile/changing/refresh', {
        auth: admin.auth,
      });
      expect(refresh.status).toBe(202);
      expect(refresh.body.status).toBe('queued');
      const job = await server.ctx.jobs.waitFor(refresh.body.job_id);
      expect(job).toMatchObject({ kind: 'profile', status: 'succeeded', tables: ['changing'] });
      const after = await call(server, 'GET', '/api/catalog/profile/changing', { auth: analyst.auth });
      expect(after.body).toMatchObject({ row_count: 7, stale: false });
      expect(after.body.profiled_at >= before.body.profiled_at).toBe(true);

      const audit = await server.ctx.repos.audit.list(
        { action: 'profile.refresh' },
        { page: 1, per_page: 10 },
      );
      expect(audit.items[0]).toMatchObject({ resource: 'changing', result: 'ok', user_id: admin.id });
    });

    it('refuses remote tables (409), unknown and unpublished ones (404), and non-admins (403)', async () => {
      const remote = await call(server, 'POST', '/api/catalog/profile/remote_events/refresh', {
        auth: admin.auth,
      });
      expect(remote.status).toBe(409);
      expect(remote.body.code).toBe('remote_table');
      for (const id of ['nope', 'never_synced']) {
        const response = await call(server, 'POST', `/api/catalog/profile/${id}/refresh`, {
          auth: admin.auth,
        });
        expect(response.status, id).toBe(404);
      }
      const analystCall = await call(server, 'POST', '/api/catalog/profile/orders/refresh', {
        auth: analyst.auth,
      });
      expect(analystCall.status).toBe(403);
      expect(analystCall.body.code).toBe('forbidden_role');
    });
  });

  describe('metrics', () => {
    it('lists readable metrics with their summary and serves one as JSON', async () => {
      const list = await call(server, 'GET', '/api/catalog/metrics', { auth: admin.auth });
      expect(list.status).toBe(200);
      const revenue = list.body.metrics.find((m: { path: string }) => m.path === 'sales/revenue.yml');
      expect(revenue).toEqual({
        path: 'sales/revenue.yml',
        name: 'revenue',
        display_name: 'Revenue',
        category: 'sales',
        grain: 'day',
        tables: ['orders', 'customers'],
      });
      const one = await call(server, 'GET', '/api/catalog/metrics/sales/revenue.yml', { auth: admin.auth });
      expect(one.status).toBe(200);
      expect(one.body).toEqual({
        name: 'revenue',
        display_name: 'Revenue',
        grain: 'day',
        tables: ['orders', 'customers'],
        expression: 'sum(amount)',
      });
      // The analyst cannot read customers: hidden from the list, 403 on detail.
      const analystList = await call(server, 'GET', '/api/catalog/metrics', { auth: analyst.auth });
      expect(analystList.body.metrics.map((m: { path: string }) => m.path)).not.toContain(
        'sales/revenue.yml',
      );
      const denied = await call(server, 'GET', '/api/catalog/metrics/sales/revenue.yml', {
        auth: analyst.auth,
      });
      expect(denied.status).toBe(403);
      expect(denied.text).not.toContain('sum(amount)');
      const missing = await call(server, 'GET', '/api/catalog/metrics/sales/nothing.yml', {
        auth: admin.auth,
      });
      expect(missing.status).toBe(404);
    });

    it('answers 500 metric_invalid without the parser text, and skips the file in the list', async () => {
      await writeMetric(server, 'broken/bad.yml', 'name: [unclosed\n  table: orders\n');
      await writeMetric(server, 'broken/wrong_tables.yml', 'name: x\ntables: {a: 1}\n');
      for (const path of ['broken/bad.yml', 'broken/wrong_tables.yml']) {
        const response = await call(server, 'GET', `/api/catalog/metrics/${path}`, { auth: admin.auth });
        expect(response.status, path).toBe(500);
        expect(response.body.code).toBe('metric_invalid');
        expect(response.text).not.toMatch(/unclosed|line|column|flow/i);
      }
      const list = await call(server, 'GET', '/api/catalog/metrics', { auth: admin.auth });
      expect(list.body.metrics.map((m: { path: string }) => m.path)).not.toContain('broken/bad.yml');
    });

    it('rejects traversal, absolute and nested paths and never follows symlinks (S5)', async () => {
      const outside = join(server.dataDir, 'outside');
      await mkdir(outside, { recursive: true });
      await writeFile(join(outside, 'secret.yml'), `name: leaked\nnote: ${SECRET}\n`);
      await writeFile(join(server.dataDir, 'x.yml'), `note: ${SECRET}\n`);
      await symlink(
        join(outside, 'secret.yml'),
        join(server.dataDir, 'docs', 'metrics', 'sales', 'evil.yml'),
      );
      await symlink(outside, join(server.dataDir, 'docs', 'metrics', 'linked'));

      const cases: [string, number][] = [
        ['/api/catalog/metrics/../x.yml', 400],
        ['/api/catalog/metrics/../../x.yml', 400],
        ['/api/catalog/metrics/%2e%2e/x.yml', 400],
        ['/api/catalog/metrics/sales/%2e%2e%2f%2e%2e%2fx.yml', 400],
        ['/api/catalog/metrics/%2e%2e%2f%2e%2e%2f%2e%2e%2fx.yml', 400],
        ['/api/catalog/metrics//etc/passwd', 400],
        ['/api/catalog/metrics/%2fetc%2fpasswd', 400],
        ['/api/catalog/metrics/a/b/c.yml', 400],
        ['/api/catalog/metrics/Sales/revenue.yml', 400],
        ['/api/catalog/metrics/sales/revenue.yaml', 400],
        ['/api/catalog/metrics/sales/rev*.yml', 400],
        ['/api/catalog/metrics/sales/evil.yml', 404],
        ['/api/catalog/metrics/linked/secret.yml', 404],
      ];
      for (const [path, status] of cases) {
        const response = await rawGet(server, path, admin.auth);
        expect(response.status, path).toBe(status);
        expect(response.text, path).not.toContain(SECRET);
        expect(response.text, path).not.toContain(server.dataDir);
        if (status === 400) expect(JSON.parse(response.text).code, path).toBe('invalid_metric_path');
      }
      const list = await call(server, 'GET', '/api/catalog/metrics', { auth: admin.auth });
      expect(list.text).not.toContain('leaked');
      expect(list.text).not.toContain('evil');
    });
  });

  it('the profiler lists the metric files that mention a table in used_by_metrics', async () => {
    const row = await server.ctx.repos.profiles.get('t_granted');
    expect(row?.profile.used_by_metrics).toEqual([{ name: 't_granted_count', file: 'matrix/t_granted.yml' }]);
  });
});

import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/core/jobs/logger.js';
import { profileTables } from '../../../src/core/jobs/profile-tables.js';
import { multiFileHash } from '../../../src/core/sync/hashing.js';
import { fakeConnector } from '../../support/connectors.js';
import { FIXED_TIME } from '../../support/extracts.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { registerTable } from './fixtures.js';
import { publishShop } from './sync-fixtures.js';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const RAISED_LIMITS = { auth: { rate_limits: { default: { max: 100_000, window_seconds: 60 } } } };

async function manifestIds(server: TestServer, user: TestUser): Promise<string[]> {
  const response = await call(server, 'GET', '/api/sync/manifest', { auth: user.auth });
  expect(response.status).toBe(200);
  return Object.keys(response.body.tables).sort();
}

describe('sync manifest (GET /api/sync/manifest)', () => {
  let server: TestServer;
  let admin: TestUser;

  beforeAll(async () => {
    server = await withServer({ config: RAISED_LIMITS });
    await publishShop(server.ctx, server.dataDir);
    admin = await createUser(server.ctx, 'admin');
  });
  afterAll(async () => server.close());

  async function grant(user: TestUser, dataset: string) {
    await server.ctx.repos.permissions.grantUser(user.id, { dataset, access: 'read', granted_by: admin.id });
  }

  it('lists exactly the published, registered tables the caller can read', async () => {
    const nobody = await createUser(server.ctx, 'analyst');
    expect(await manifestIds(server, nobody)).toEqual(['holidays']);

    const direct = await createUser(server.ctx, 'analyst');
    await grant(direct, 'orders');
    await grant(direct, 'salaries');
    await server.ctx.repos.permissions.grantUser(direct.id, {
      dataset: 'refunds',
      access: 'none',
      granted_by: admin.id,
    });
    expect(await manifestIds(server, direct)).toEqual(['holidays', 'orders', 'salaries']);

    // Group grants, on a table and on a bucket wildcard; `broken` (not ok) is left out.
    const member = await createUser(server.ctx, 'km_admin');
    const group = await server.ctx.repos.groups.create({ name: `Analysts ${member.id}` });
    await server.ctx.repos.groups.addMember(group.id, member.id, admin.id);
    await server.ctx.repos.permissions.grantGroup(group.id, {
      dataset: 'refunds',
      access: 'read',
      granted_by: admin.id,
    });
    await server.ctx.repos.permissions.grantGroup(group.id, {
      dataset: 'web.*',
      access: 'read',
      granted_by: admin.id,
    });
    expect(await manifestIds(server, member)).toEqual(['clicks', 'events', 'holidays', 'refunds']);

    // A bucket grant reaches non-discoverable tables too; unregistered views never appear.
    const hr = await createUser(server.ctx, 'analyst');
    await grant(hr, 'hr.*');
    expect(await manifestIds(server, hr)).toEqual(['holidays', 'salaries', 'secret_plans']);

    expect(await manifestIds(server, admin)).toEqual([
      'clicks',
      'events',
      'holidays',
      'orders',
      'refunds',
      'salaries',
      'secret_plans',
    ]);
  });

  it('describes local, multi-file and remote tables as 02 §8 shows', async () => {
    const response = await call(server, 'GET', '/api/sync/manifest', { auth: admin.auth });
    const { body } = response;
    expect(body.user_id).toBe(admin.id);
    expect(body.generation).toBe(await server.ctx.orchestrator.currentGeneration());
    expect(Date.parse(body.server_time)).toBeGreaterThan(Date.now() - 60_000);
    expect(body.server_time).toMatch(/Z$/);
    const orders = await server.ctx.repos.syncState.getState('orders');
    expect(body.tables.orders).toEqual({
      id: 'orders',
      name: 'Orders',
      description: 'Customer orders',
      source: 'shop',
      dataset: 'sales',
      query_mode: 'local',
      layout: 'single',
      rows: 50,
      size_bytes: orders?.file_size_bytes,
      hash: orders?.hash,
      updated: FIXED_TIME,
      files: [{ name: 'orders.parquet', size: orders?.files[0]?.size, hash: orders?.hash }],
    });
    const events = body.tables.events;
    expect(events).toMatchObject({ layout: 'multi', dataset: 'web', rows: 60, description: '' });
    expect(events.files.map((f: { name: string }) => f.name)).toEqual([
      'part-0.parquet',
      'part-1.parquet',
      'part-2.parquet',
    ]);
    expect(events.hash).toBe(
      multiFileHash(
        events.files.map((f: { name: string; size: number; hash: string }) => ({
          name: f.name,
          size: f.size,
          sha256: f.hash,
        })),
      ),
    );
    expect(events.size_bytes).toBe(
      events.files.reduce((sum: number, f: { size: number }) => sum + f.size, 0),
    );
    expect(body.tables.clicks).toEqual({
      id: 'clicks',
      name: 'clicks',
      description: 'Web clicks',
      source: 'keboola',
      dataset: 'web',
      query_mode: 'remote',
      layout: 'remote',
      rows: null,
      size_bytes: 0,
      hash: null,
      updated: '2026-04-09T05:00:00.000Z',
      files: [],
    });
    expect(body.tables.holidays.dataset).toBe('default');
  });

  it('narrows by the sync settings and table subscriptions, never widening access', async () => {
    const user = await createUser(server.ctx, 'analyst');
    for (const dataset of ['orders', 'refunds', 'web.*']) await grant(user, dataset);
    expect(await manifestIds(server, user)).toEqual(['clicks', 'events', 'holidays', 'orders', 'refunds']);

    const off = await call(server, 'POST', '/api/sync/settings', {
      auth: user.auth,
      body: { datasets: { sales: false } },
    });
    expect(off.status).toBe(200);
    expect(await manifestIds(server, user)).toEqual(['clicks', 'events', 'holidays']);

    const selected = await call(server, 'POST', '/api/sync/table-subscriptions', {
      auth: user.auth,
      body: { dataset: 'web', table_mode: 'selected', tables: ['events'] },
    });
    expect(selected.status).toBe(200);
    expect(await manifestIds(server, user)).toEqual(['events', 'holidays']);

    await call(server, 'POST', '/api/sync/table-subscriptions', {
      auth: user.auth,
      body: { dataset: 'web', table_mode: 'all' },
    });
    await call(server, 'POST', '/api/sync/settings', {
      auth: user.auth,
      body: { datasets: { sales: true } },
    });
    expect(await manifestIds(server, user)).toEqual(['clicks', 'events', 'holidays', 'orders', 'refunds']);

    // A setting for an unreadable dataset cannot be stored, so it cannot add tables either.
    const refused = await call(server, 'POST', '/api/sync/settings', {
      auth: user.auth,
      body: { datasets: { hr: true } },
    });
    expect(refused.status).toBe(403);
    expect(await manifestIds(server, user)).not.toContain('salaries');
  });

  it('carries ETag "m-<generation>-<sha256 of tables>" and answers a matching If-None-Match with 304', async () => {
    const user = await createUser(server.ctx, 'analyst');
    await grant(user, 'orders');
    const first = await call(server, 'GET', '/api/sync/manifest', { auth: user.auth });
    const generation = first.body.generation;
    const etag = first.headers.get('etag');
    expect(etag).toBe(`"m-${generation}-${sha256(JSON.stringify(first.body.tables))}"`);

    for (const header of [etag!, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await call(server, 'GET', '/api/sync/manifest', {
        auth: user.auth,
        headers: { 'if-none-match': header },
      });
      expect(again.status, header).toBe(304);
      expect(again.text).toBe('');
      expect(again.headers.get('etag')).toBe(etag);
    }

    // A new grant changes the tables object; a rebuild changes the generation.
    await grant(user, 'events');
    const granted = await call(server, 'GET', '/api/sync/manifest', {
      auth: user.auth,
      headers: { 'if-none-match': etag! },
    });
    expect(granted.status).toBe(200);
    expect(granted.headers.get('etag')).not.toBe(etag);
    await server.ctx.orchestrator.rebuild();
    const rebuilt = await call(server, 'GET', '/api/sync/manifest', {
      auth: user.auth,
      headers: { 'if-none-match': granted.headers.get('etag')! },
    });
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body.generation).toBe(generation + 1);
    expect(rebuilt.body.tables).toEqual(granted.body.tables);
    expect(rebuilt.headers.get('etag')).toBe(
      `"m-${generation + 1}-${sha256(JSON.stringify(rebuilt.body.tables))}"`,
    );
  });

  it('lists hashes that equal each download ETag and the SHA-256 of the bytes downloaded', async () => {
    const response = await call(server, 'GET', '/api/sync/manifest', { auth: admin.auth });
    let checked = 0;
    for (const table of Object.values(response.body.tables) as {
      id: string;
      layout: string;
      hash: string;
      files: { name: string; hash: string; size: number }[];
    }[]) {
      for (const file of table.files) {
        const path =
          table.layout === 'single'
            ? `/api/data/${table.id}/download`
            : `/api/data/${table.id}/files/${file.name}`;
        const download = await fetch(`${server.url}${path}`, { headers: { authorization: admin.auth } });
        const bytes = Buffer.from(await download.arrayBuffer());
        expect(download.status).toBe(200);
        expect(download.headers.get('etag')).toBe(`"${file.hash}"`);
        expect(sha256(bytes)).toBe(file.hash);
        expect(bytes.length).toBe(file.size);
        if (table.layout === 'single') expect(table.hash).toBe(file.hash);
        checked += 1;
      }
    }
    expect(checked).toBe(8);
  });

  it('is for analysts and up', async () => {
    const viewer = await createUser(server.ctx, 'viewer');
    expect((await call(server, 'GET', '/api/sync/manifest', { auth: viewer.auth })).body.code).toBe(
      'forbidden_role',
    );
    expect((await call(server, 'GET', '/api/sync/manifest')).status).toBe(401);
  });

  it('follows a grant and its revocation across manifest, catalog, profile, download and query (S3)', async () => {
    const profiled = await profileTables(
      {
        repos: server.ctx.repos,
        dataDir: server.dataDir,
        options: server.ctx.config.profiler,
        log: silentLogger,
      },
      ['orders'],
      { force: true },
    );
    expect(profiled.profiled).toEqual(['orders']);
    const user = await createUser(server.ctx, 'analyst');
    const catalogIds = async () =>
      (await call(server, 'GET', '/api/catalog/tables', { auth: user.auth })).body.tables.map(
        (t: { id: string; access: string }) => `${t.id}:${t.access}`,
      );
    const status = async (method: string, path: string, body?: unknown) =>
      (await call(server, method, path, { auth: user.auth, body })).status;
    const query = { sql: 'SELECT count(*) AS n FROM orders' };
    /** Every path that hands out the table's data or its sample values, for a caller without read. */
    const expectLocked = async () => {
      expect(await manifestIds(server, user)).toEqual(['holidays']);
      expect(await catalogIds()).not.toContain('orders:read');
      expect(await status('GET', '/api/catalog/profile/orders')).toBe(403);
      expect(await status('GET', '/api/catalog/tables/orders/preview')).toBe(403);
      expect(await status('GET', '/api/data/orders/download')).toBe(403);
      expect(await status('GET', '/api/data/orders/files/orders.parquet')).toBe(403);
      expect(await status('POST', '/api/query', query)).toBe(403);
    };

    await expectLocked();

    const granted = await call(server, 'POST', '/api/admin/permissions', {
      auth: admin.auth,
      body: { user_id: user.id, dataset: 'orders', access: 'read' },
    });
    expect(granted.status).toBe(201);
    expect(await manifestIds(server, user)).toEqual(['holidays', 'orders']);
    expect(await catalogIds()).toContain('orders:read');
    const profile = await call(server, 'GET', '/api/catalog/profile/orders', { auth: user.auth });
    expect(profile.status).toBe(200);
    expect(profile.body.row_count).toBe(50);
    expect(await status('GET', '/api/catalog/tables/orders/preview')).toBe(200);
    const download = await fetch(`${server.url}/api/data/orders/download`, {
      headers: { authorization: user.auth },
    });
    expect(download.status).toBe(200);
    expect(sha256(Buffer.from(await download.arrayBuffer()))).toBe(
      (await server.ctx.repos.syncState.getState('orders'))?.hash,
    );
    const result = await call(server, 'POST', '/api/query', { auth: user.auth, body: query });
    expect(result.status).toBe(200);
    expect(result.body.rows).toEqual([[50]]);

    const revoked = await call(server, 'DELETE', '/api/admin/permissions', {
      auth: admin.auth,
      body: { user_id: user.id, dataset: 'orders' },
    });
    expect(revoked.body).toEqual({ revoked: true });
    await expectLocked();
  });
});

describe('sync history (GET /api/sync/history)', () => {
  let server: TestServer;
  let admin: TestUser;

  beforeAll(async () => {
    server = await withServer({ config: RAISED_LIMITS });
    await publishShop(server.ctx, server.dataDir);
    admin = await createUser(server.ctx, 'admin');
  });
  afterAll(async () => server.close());

  it('shows admins every row, and others only the table rows of tables they can read', async () => {
    const everything = await call(server, 'GET', '/api/sync/history?per_page=200', { auth: admin.auth });
    expect(everything.status).toBe(200);
    const entries = everything.body.entries as { table_id: string | null; source: string; status: string }[];
    expect(entries.some((e) => e.table_id === null && e.source === 'shop')).toBe(true);
    expect(
      entries
        .filter((e) => e.table_id !== null)
        .map((e) => e.table_id)
        .sort(),
    ).toEqual(['events', 'holidays', 'orders', 'refunds', 'salaries', 'scratch', 'secret_plans']);
    expect(everything.body).toMatchObject({ total: entries.length, page: 1, per_page: 200 });

    const analyst = await createUser(server.ctx, 'viewer');
    await server.ctx.repos.permissions.grantUser(analyst.id, {
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
    const mine = await call(server, 'GET', '/api/sync/history', { auth: analyst.auth });
    expect(mine.status).toBe(200);
    expect(mine.body.entries.map((e: { table_id: string }) => e.table_id).sort()).toEqual([
      'holidays',
      'orders',
    ]);
    expect(mine.body.entries[0]).toMatchObject({
      source: 'shop',
      status: 'changed',
      rows: expect.any(Number),
    });
    expect(Object.keys(mine.body.entries[0]).sort()).toEqual(
      ['duration_ms', 'error', 'id', 'rows', 'source', 'status', 'synced_at', 'table_id'].sort(),
    );
    for (const query of ['?table_id=salaries', '?table_id=scratch', '?source=shop&table_id=secret_plans']) {
      const hidden = await call(server, 'GET', `/api/sync/history${query}`, { auth: analyst.auth });
      expect(hidden.body, query).toMatchObject({ entries: [], total: 0 });
    }
    const bySource = await call(server, 'GET', '/api/sync/history?source=shop&table_id=orders', {
      auth: analyst.auth,
    });
    expect(bySource.body.entries).toHaveLength(1);
    expect((await call(server, 'GET', '/api/sync/history?per_page=500', { auth: admin.auth })).status).toBe(
      422,
    );
    expect((await call(server, 'GET', '/api/sync/history')).status).toBe(401);

    // Once a row policy binds the table, its past row counts (the whole table's) are not shown to
    // the bound reader: they would tell how many rows the policy hides (12 §3).
    const policy = await call(server, 'POST', '/api/admin/tables/orders/policies', {
      auth: admin.auth,
      body: { name: 'None', applies_to: { everyone: false, users: [admin.id], groups: [] } },
    });
    expect(policy.status).toBe(201);
    const bound = await call(server, 'GET', '/api/sync/history?table_id=orders', { auth: analyst.auth });
    expect(bound.body.entries.map((e: { rows: unknown }) => e.rows)).toEqual([null]);
    const asAdmin = await call(server, 'GET', '/api/sync/history?table_id=orders', { auth: admin.auth });
    expect(asAdmin.body.entries[0].rows).toEqual(expect.any(Number));
  });
});

describe('sync trigger and jobs (POST /api/sync/trigger, GET /api/sync/jobs)', () => {
  let server: TestServer;
  let inputs: string;
  let admin: TestUser;
  let analyst: TestUser;

  beforeEach(async () => {
    inputs = await mkdtemp(join(tmpdir(), 'agnes-sync-inputs-'));
    await writeFile(join(inputs, 'orders.csv'), 'id,amount\n1,10.5\n2,20\n3,7.25\n');
    await writeFile(join(inputs, 'customers.csv'), 'id,name\n1,Ada\n2,Grace\n');
    server = await withServer({
      config: RAISED_LIMITS,
      sources: [{ name: 'files', type: 'local', config: { path: inputs } }],
      // A push connector as Jira's will be: its tables are never synced on request.
      connectors: [fakeConnector({ type: 'jira', traits: { direction: 'push' } })],
      startServices: true,
    });
    [admin, analyst] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
    ]);
    await registerTable(server.ctx, 'orders', { source: 'files', source_type: 'local', is_public: true });
    await registerTable(server.ctx, 'customers', { source: 'files', source_type: 'local' });
    await registerTable(server.ctx, 'issues', { source: 'jira', source_type: 'jira' });
    await registerTable(server.ctx, 'ledger', { source: 'finance', source_type: 'local' });
  });
  afterEach(async () => {
    await server.close();
    await rm(inputs, { recursive: true, force: true });
  });

  async function waitForStatus(jobId: string, statuses: string[]) {
    const deadline = Date.now() + 8_000;
    for (;;) {
      const job = await call(server, 'GET', `/api/sync/jobs/${jobId}`, { auth: admin.auth });
      if (statuses.includes(job.body.status) || Date.now() > deadline) return job.body;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  it('with no body queues one job per configured pull source, which extracts and publishes', async () => {
    const response = await call(server, 'POST', '/api/sync/trigger', { auth: admin.auth });
    expect(response.status).toBe(202);
    expect(response.body).toMatchObject({
      status: 'triggered',
      jobs: [{ source: 'files', status: 'queued', tables: ['customers', 'orders'] }],
      skipped: [],
    });
    const job = await server.ctx.jobs.waitFor(response.body.jobs[0].id);
    expect(job.status).toBe('succeeded');
    expect(job.requested_by).toBe(admin.id);
    const manifest = await call(server, 'GET', '/api/sync/manifest', { auth: analyst.auth });
    expect(Object.keys(manifest.body.tables)).toEqual(['orders']);
    expect(manifest.body.tables.orders.rows).toBe(3);

    const detail = await call(server, 'GET', `/api/sync/jobs/${job.id}`, { auth: admin.auth });
    expect(detail.status).toBe(200);
    expect(Object.keys(detail.body).sort()).toEqual(
      [
        'claimed_by',
        'created_at',
        'error',
        'finished_at',
        'heartbeat_at',
        'id',
        'kind',
        'report',
        'requested_by',
        'source',
        'started_at',
        'status',
        'tables',
      ].sort(),
    );
    expect(detail.body).toMatchObject({
      id: job.id,
      claimed_by: server.ctx.replica.instance_id,
      kind: 'sync',
      source: 'files',
      status: 'succeeded',
      error: null,
    });
    expect(detail.body.report.rebuild.source.tables).toEqual(['customers', 'orders']);

    const audit = await server.ctx.repos.audit.list({ user_id: admin.id, action: 'sync.trigger' });
    expect(audit.items).toHaveLength(1);
  });

  it('takes a bare array or {tables}, skips push and unconfigured sources, and refuses unknown ids', async () => {
    const bare = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: ['customers', 'issues', 'ledger'],
    });
    expect(bare.status).toBe(202);
    expect(bare.body.jobs).toEqual([
      { id: expect.any(String), source: 'files', status: 'queued', tables: ['customers'] },
    ]);
    expect(bare.body.skipped).toEqual([
      { table: 'issues', reason: 'push_source' },
      { table: 'ledger', reason: 'source_not_configured' },
    ]);
    await server.ctx.jobs.waitFor(bare.body.jobs[0].id);

    const unknown = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { tables: ['orders', 'nope', '../etc'] },
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body).toMatchObject({ code: 'unknown_tables', tables: ['nope', '../etc'] });
    expect(unknown.body.detail).not.toContain('nope');
    // A table of another source than the one named is unknown there.
    const wrongSource = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { tables: ['issues'], source: 'files' },
    });
    expect(wrongSource.body).toMatchObject({ code: 'unknown_tables', tables: ['issues'] });

    for (const source of ['nowhere', 'bad name', '../files']) {
      const missing = await call(server, 'POST', '/api/sync/trigger', { auth: admin.auth, body: { source } });
      expect(missing.status, source).toBe(404);
    }
    const push = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { source: 'jira' },
    });
    expect(push.body).toEqual({
      status: 'triggered',
      jobs: [],
      skipped: [{ table: 'issues', reason: 'push_source' }],
    });
    expect(
      (await call(server, 'POST', '/api/sync/trigger', { auth: admin.auth, body: { tables: 'orders' } }))
        .status,
    ).toBe(422);
    expect(
      (await call(server, 'POST', '/api/sync/trigger', { auth: admin.auth, body: { full_refresh: 'yes' } }))
        .status,
    ).toBe(422);
    expect((await call(server, 'POST', '/api/sync/trigger', { auth: analyst.auth })).status).toBe(403);
  });

  it('queues a follow-up while a job runs and merges later triggers into it', async () => {
    const first = await call(server, 'POST', '/api/sync/trigger', { auth: admin.auth, body: ['orders'] });
    const firstId = first.body.jobs[0].id;
    expect((await waitForStatus(firstId, ['running', 'succeeded'])).status).toBe('running');
    const second = await call(server, 'POST', '/api/sync/trigger', { auth: admin.auth, body: ['orders'] });
    const third = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { tables: ['customers'], source: 'files' },
    });
    expect(second.body.jobs[0]).toMatchObject({ status: 'queued', tables: ['orders'] });
    expect(second.body.jobs[0].id).not.toBe(firstId);
    expect(third.body.jobs[0]).toMatchObject({
      id: second.body.jobs[0].id,
      status: 'merged',
      tables: ['orders', 'customers'],
    });
    expect((await server.ctx.jobs.waitFor(third.body.jobs[0].id)).status).toBe('succeeded');

    const all = await call(server, 'GET', '/api/sync/jobs', { auth: admin.auth });
    expect(all.body).toMatchObject({ total: 2, page: 1, per_page: 50 });
    expect(all.body.jobs.map((j: { id: string }) => j.id)).toEqual([second.body.jobs[0].id, firstId]);
    const succeeded = await call(server, 'GET', '/api/sync/jobs?status=succeeded&per_page=1', {
      auth: admin.auth,
    });
    expect(succeeded.body).toMatchObject({ total: 2, per_page: 1 });
    expect(succeeded.body.jobs).toHaveLength(1);
    expect((await call(server, 'GET', '/api/sync/jobs?status=queued', { auth: admin.auth })).body.total).toBe(
      0,
    );
    expect((await call(server, 'GET', '/api/sync/jobs?status=done', { auth: admin.auth })).status).toBe(422);
  });

  it('re-extracts unchanged inputs only with full_refresh', async () => {
    const first = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { source: 'files' },
    });
    await server.ctx.jobs.waitFor(first.body.jobs[0].id);
    const extractedAt = async () => (await server.ctx.repos.syncState.getState('orders'))?.extracted_at;
    const initial = await extractedAt();
    expect(initial).toBeTruthy();

    const plain = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { source: 'files' },
    });
    await server.ctx.jobs.waitFor(plain.body.jobs[0].id);
    expect(await extractedAt()).toBe(initial);

    const full = await call(server, 'POST', '/api/sync/trigger', {
      auth: admin.auth,
      body: { source: 'files', full_refresh: true },
    });
    expect(full.body.jobs[0]).toMatchObject({ source: 'files', status: 'queued' });
    expect((await server.ctx.jobs.waitFor(full.body.jobs[0].id)).status).toBe('succeeded');
    expect(Date.parse((await extractedAt())!)).toBeGreaterThan(Date.parse(initial!));
  });

  it('keeps jobs admin-only: other users see neither the list nor a job (S3)', async () => {
    const triggered = await call(server, 'POST', '/api/sync/trigger', { auth: admin.auth, body: ['orders'] });
    const id = triggered.body.jobs[0].id;
    await server.ctx.jobs.waitFor(id);
    for (const path of ['/api/sync/jobs', `/api/sync/jobs/${id}`]) {
      const refused = await call(server, 'GET', path, { auth: analyst.auth });
      expect(refused.status, path).toBe(403);
      expect(refused.body.code).toBe('forbidden_role');
      expect(refused.text).not.toContain(id);
    }
    expect(
      (await call(server, 'GET', '/api/sync/jobs/00000000-0000-4000-8000-000000000000', { auth: admin.auth }))
        .status,
    ).toBe(404);
    // Source-level history rows of the job's rebuild stay with admins.
    const history = await call(server, 'GET', '/api/sync/history', { auth: analyst.auth });
    expect(history.body.entries.every((e: { table_id: string | null }) => e.table_id === 'orders')).toBe(
      true,
    );
    const adminHistory = await call(server, 'GET', '/api/sync/history?source=files', { auth: admin.auth });
    expect(adminHistory.body.entries.some((e: { table_id: string | null }) => e.table_id === null)).toBe(
      true,
    );
  });
});

import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, queryRows } from '../../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../../src/core/duckdb/sql.js';
import { QueryPolicies } from '../../../src/core/policies/enforce.js';
import { PolicySlices, type SliceTable } from '../../../src/core/policies/slices.js';
import type { EffectiveView } from '../../../src/core/policies/types.js';
import { QueryEngine, type QueryRequest } from '../../../src/core/query/engine.js';
import { injectViews, publishCrm, SALT, sliceView, storePolicy } from '../../core/policies/policy-fixture.js';
import { httpClient, tool } from '../../support/mcp.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { plainUser, sessionToken } from './fixtures.js';

const NO_RATE_LIMIT = { auth: { rate_limits: { query: { max: 100_000, window_seconds: 60 } } } };
const EU = "region = 'EU'";

describe('row policies on the query path (12 §3)', () => {
  let server: TestServer;
  let admin: TestUser;
  let reader: TestUser;
  let views: Map<string, EffectiveView>;

  beforeAll(async () => {
    server = await withServer({
      config: NO_RATE_LIMIT,
      env: { AGNES_POLICY_SALT: SALT },
    });
    await publishCrm(server.ctx, server.dataDir);
    [admin, reader] = await Promise.all([createUser(server.ctx, 'admin'), createUser(server.ctx, 'analyst')]);
    await server.ctx.repos.permissions.grantUser(reader.id, {
      dataset: 'crm.*',
      access: 'read',
      granted_by: admin.id,
    });
    views = injectViews(server.ctx);
    await storePolicy(server.ctx, 'sales');
  });
  afterAll(async () => server.close());

  const query = async (user: TestUser, sql: string) => {
    const response = await call(server, 'POST', '/api/query', { auth: user.auth, body: { sql } });
    expect(response.status, response.text).toBe(200);
    return response.body as { rows: unknown[][]; columns: string[]; column_types: string[] };
  };
  const scalar = async (user: TestUser, sql: string) => (await query(user, sql)).rows[0]?.[0];

  it('shows a bound reader only the slice, whatever the SQL tries', async () => {
    views.set('sales', sliceView(EU));
    const attempts: [string, unknown][] = [
      ['SELECT count(*) FROM sales', 10],
      ["SELECT count(*) FROM sales WHERE region = 'US' OR TRUE", 10],
      ['SELECT count(*) FROM (SELECT * FROM sales UNION ALL SELECT * FROM sales)', 20],
      ['SELECT count(*) FROM (SELECT * FROM sales UNION SELECT * FROM sales)', 10],
      ['SELECT max(n) FROM (SELECT count(*) OVER () AS n FROM sales)', 10],
      [
        "SELECT count(*) FROM sales s WHERE EXISTS (SELECT 1 FROM sales t WHERE t.id = s.id AND t.region <> 'EU')",
        0,
      ],
      ['SELECT count(*) FROM sales s WHERE (SELECT count(*) FROM sales t WHERE t.region = s.region) > 0', 10],
      ['WITH sales AS (SELECT * FROM sales) SELECT count(*) FROM sales', 10],
      ["SELECT string_agg(DISTINCT region, ',') FROM sales", 'EU'],
    ];
    for (const [sql, expected] of attempts) expect([sql, await scalar(reader, sql)]).toEqual([sql, expected]);
    // An unbound table of the same source is read whole.
    expect(await scalar(reader, 'SELECT count(*) FROM plain')).toBe(3);
    // Admins are never bound.
    expect(await scalar(admin, 'SELECT count(*) FROM sales')).toBe(40);
  });

  it('audits the policies of a bound read and the bypass of an admin', async () => {
    views.set('sales', sliceView(EU));
    await query(reader, 'SELECT count(*) AS audited_reader FROM sales');
    await query(admin, 'SELECT count(*) AS audited_admin FROM sales');
    await query(reader, 'SELECT count(*) AS audited_plain FROM plain');
    const entries = await server.ctx.repos.audit.list({ action: 'query.execute' }, { page: 1, per_page: 50 });
    const paramsOf = (marker: string) =>
      entries.items.find((e) => JSON.stringify(e.params).includes(marker))?.params as Record<string, unknown>;
    expect(paramsOf('audited_reader')).toMatchObject({ policies: ['p-eu'] });
    expect(paramsOf('audited_admin')).toMatchObject({ policy_bypass: 'admin' });
    expect(paramsOf('audited_plain')).not.toHaveProperty('policies');
    expect(paramsOf('audited_plain')).not.toHaveProperty('policy_bypass');
    // An admin's preview and download of a bound table say so too; the file is the table's own.
    expect(
      (await call(server, 'GET', '/api/catalog/tables/sales/preview', { auth: admin.auth })).status,
    ).toBe(200);
    const download = await fetch(`${server.url}/api/data/sales/download`, {
      headers: { authorization: admin.auth },
    });
    expect(download.headers.get('etag')).toBe(
      `"${(await server.ctx.repos.syncState.getState('sales'))!.hash}"`,
    );
    await download.arrayBuffer();
    for (const action of ['catalog.preview', 'data.download']) {
      const latest = await server.ctx.repos.audit.list({ action }, { page: 1, per_page: 1 });
      expect([action, latest.items[0]?.params]).toEqual([
        action,
        expect.objectContaining({ policy_bypass: 'admin' }),
      ]);
    }
  });

  it('binds preview and export too', async () => {
    views.set('sales', sliceView(EU));
    const preview = await call(server, 'GET', '/api/catalog/tables/sales/preview?limit=100', {
      auth: reader.auth,
    });
    expect(preview.status).toBe(200);
    expect(preview.body.row_count).toBe(10);
    const exported = await call(server, 'POST', '/api/query/export', {
      auth: reader.auth,
      body: { sql: 'SELECT region FROM sales', format: 'csv' },
    });
    expect(exported.status).toBe(200);
    expect(exported.text.trim().split(/\r?\n/)).toEqual(['region', ...Array(10).fill('EU')]);
    const audits = await server.ctx.repos.audit.list({ action: 'query.export' }, { page: 1, per_page: 5 });
    expect(audits.items[0]?.params).toMatchObject({ policies: ['p-eu'] });
  });

  it('masks with null (keeping the type) and hash (VARCHAR), and hashed keys join across tables', async () => {
    views.set(
      'sales',
      sliceView(EU, [
        { column: 'amount', mask: 'null' },
        { column: 'customer', mask: 'hash' },
      ]),
    );
    views.set('customers', sliceView(null, [{ column: 'customer', mask: 'hash' }]));
    const result = await query(reader, 'SELECT id, customer, amount FROM sales ORDER BY id LIMIT 2');
    expect(result.column_types).toEqual(['BIGINT', 'VARCHAR', 'INTEGER']);
    const digest = (value: string) => createHash('sha256').update(`${SALT}:${value}`).digest('hex');
    // Rows 0 and 4 are EU: customers c0 and c4.
    expect(result.rows).toEqual([
      [0, digest('c0'), null],
      [4, digest('c4'), null],
    ]);
    expect(await scalar(reader, 'SELECT count(*) FROM sales JOIN customers USING (customer)')).toBe(10);
    expect(await scalar(reader, "SELECT count(*) FROM customers WHERE customer LIKE 'c%'")).toBe(0);
    views.delete('customers');
  });

  it('gives a changed binding a new slice key and a new sandbox', async () => {
    views.set('sales', sliceView(EU));
    expect(await scalar(reader, 'SELECT count(*) FROM sales')).toBe(10);
    const before = await server.ctx.policies.slices.keyOf(await publishedSales(server), sliceView(EU));
    views.set('sales', sliceView("region IN ('EU', 'US')"));
    expect(await scalar(reader, 'SELECT count(*) FROM sales')).toBe(20);
    const after = await server.ctx.policies.slices.keyOf(
      await publishedSales(server),
      sliceView("region IN ('EU', 'US')"),
    );
    expect(after).not.toBe(before);
    views.set('sales', { ...sliceView('FALSE', [], []), kind: 'empty' });
    const empty = await query(reader, 'SELECT * FROM sales');
    expect(empty.rows).toEqual([]);
    expect(empty.columns).toEqual(['id', 'region', 'customer', 'amount']);
  });

  it('lists the slice in the manifest and serves its bytes on download (Range, ETag, 304)', async () => {
    views.set('sales', sliceView(EU));
    const raw = (await server.ctx.repos.syncState.getState('sales'))!;
    const manifest = await call(server, 'GET', '/api/sync/manifest', { auth: reader.auth });
    expect(manifest.status).toBe(200);
    const entry = manifest.body.tables.sales;
    expect(entry).toMatchObject({
      layout: 'single',
      rows: 10,
      policy: { names: ['EU only'], masked_columns: [] },
    });
    expect(entry.hash).not.toBe(raw.hash);
    expect(entry.files).toEqual([{ name: 'sales.parquet', size: entry.size_bytes, hash: entry.hash }]);
    expect(manifest.body.tables.plain).not.toHaveProperty('policy');
    const adminManifest = await call(server, 'GET', '/api/sync/manifest', { auth: admin.auth });
    expect(adminManifest.body.tables.sales).toMatchObject({ rows: 40, hash: raw.hash });

    const builds = server.ctx.policies.slices.builds;
    const response = await fetch(`${server.url}/api/data/sales/download`, {
      headers: { authorization: reader.auth },
    });
    expect(response.status).toBe(200);
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.hash);
    expect(response.headers.get('etag')).toBe(`"${entry.hash}"`);
    const file = join(server.dataDir, 'tmp', 'downloaded-slice.parquet');
    await writeFile(file, bytes);
    const duck = await openDuck();
    try {
      const rows = await queryRows(
        duck.conn,
        `SELECT DISTINCT region FROM read_parquet(${quoteLiteral(file)})`,
      );
      expect(rows).toEqual([{ region: 'EU' }]);
    } finally {
      duck.close();
    }
    // The manifest, the query and the download share one slice.
    expect(await scalar(reader, 'SELECT count(*) FROM sales')).toBe(10);
    expect(server.ctx.policies.slices.builds).toBe(builds);

    const again = await fetch(`${server.url}/api/data/sales/download`, {
      headers: { authorization: reader.auth, 'if-none-match': `"${entry.hash}"` },
    });
    expect(again.status).toBe(304);
    const ranged = await fetch(`${server.url}/api/data/sales/files/sales.parquet`, {
      headers: { authorization: reader.auth, range: 'bytes=0-9' },
    });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer())).toEqual(bytes.subarray(0, 10));
    const audits = await server.ctx.repos.audit.list({ action: 'data.download' }, { page: 1, per_page: 5 });
    expect(audits.items[0]?.params).toMatchObject({ table: 'sales', policies: ['p-eu'] });
  });

  it("shows a bound reader the slice's figures and a profile of the slice without masked columns", async () => {
    views.set('sales', sliceView(EU, [{ column: 'amount', mask: 'null' }]));
    const listedSales = async () =>
      (await call(server, 'GET', '/api/catalog/tables', { auth: reader.auth })).body.tables.find(
        (t: { id: string }) => t.id === 'sales',
      );
    // A list never waits for a build: no figures (never the table's) until the slice exists.
    expect(await listedSales()).toMatchObject({ rows: null, size_bytes: null });
    const detail = await call(server, 'GET', '/api/catalog/tables/sales', { auth: reader.auth });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ rows: 10, sync: { rows: 10, layout: 'single', file_count: 1 } });
    expect(await listedSales()).toMatchObject({ rows: 10 });
    expect(detail.body.columns.map((c: { name: string }) => c.name)).toEqual([
      'id',
      'region',
      'customer',
      'amount',
    ]);
    const adminDetail = await call(server, 'GET', '/api/catalog/tables/sales', { auth: admin.auth });
    expect(adminDetail.body).toMatchObject({ rows: 40 });

    const profile = await call(server, 'GET', '/api/catalog/profile/sales', { auth: reader.auth });
    expect(profile.status, profile.text).toBe(200);
    expect(profile.body.row_count).toBe(10);
    const columns = profile.body.columns as {
      name: string;
      max?: number;
      top_values?: { value: string }[];
    }[];
    expect(columns.map((c) => c.name)).toEqual(['id', 'region', 'customer']);
    // No figure from hidden rows: the largest EU id is 36, the table's is 39.
    expect(columns.find((c) => c.name === 'id')?.max).toBe(36);
    const regions = columns.find((c) => c.name === 'region')?.top_values?.map((v) => v.value);
    expect(regions).toEqual(['EU']);
    expect(JSON.stringify(profile.body.sample_rows)).not.toContain('amount');
  });

  it('builds the slice once for 20 concurrent first requests by 20 readers with one binding', async () => {
    views.set('sales', sliceView("region = 'LATAM'"));
    const readers = await Promise.all(Array.from({ length: 20 }, () => plainUser(server.ctx)));
    for (const user of readers)
      await server.ctx.repos.permissions.grantUser(user.id, {
        dataset: 'crm.*',
        access: 'read',
        granted_by: admin.id,
      });
    const tokens = await Promise.all(
      readers.map(async (user) => `Bearer ${await sessionToken(server.ctx, user.id)}`),
    );
    const builds = server.ctx.policies.slices.builds;
    const answers = await Promise.all(
      tokens.map((auth) =>
        call(server, 'POST', '/api/query', {
          auth,
          body: { sql: "SELECT count(*) FROM sales WHERE region = 'LATAM'" },
        }),
      ),
    );
    expect(answers.map((a) => [a.status, a.body.rows?.[0]?.[0]])).toEqual(Array(20).fill([200, 10]));
    expect(server.ctx.policies.slices.builds - builds).toBe(1);
  });

  it("binds the MCP query tool and audits the call's policies", async () => {
    views.set('sales', sliceView(EU));
    const { client } = await httpClient(server.url, reader.auth);
    try {
      const answer = await tool(client, 'query', { sql: 'SELECT count(*) AS mcp_count FROM sales' });
      expect(answer.structured).toMatchObject({ rows: [[10]] });
    } finally {
      await client.close();
    }
    await expect
      .poll(async () => {
        const entries = await server.ctx.repos.audit.list({ action: 'mcp.query' }, { page: 1, per_page: 5 });
        return entries.items[0]?.params;
      })
      .toMatchObject({ policies: ['p-eu'] });
  });

  it('answers 503 slice_pending with Retry-After while the slice is built, and the retry gets it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const original = server.ctx.policies.slices;
    // Builds whose salt read is held: the first request gives up after one second.
    let saltReads = 0;
    server.ctx.policies.slices = new PolicySlices({
      dataDir: server.dataDir,
      tempDir: server.ctx.tempDir,
      repo: server.ctx.repos.policySlices,
      salt: async () => {
        saltReads += 1;
        if (saltReads > 1) await gate;
        return { salt: SALT, saltVersion: 'pending-test' };
      },
      waitSeconds: 1,
      threads: 1,
      log: { error: () => undefined },
    });
    try {
      views.set('sales', sliceView("region = 'APAC'", [{ column: 'customer', mask: 'hash' }]));
      const body = { sql: 'SELECT count(*) FROM sales' };
      const pending = await call(server, 'POST', '/api/query', { auth: reader.auth, body });
      expect(pending.status).toBe(503);
      expect(pending.body.code).toBe('slice_pending');
      expect(pending.headers.get('retry-after')).toBe('1');
      release();
      await expect
        .poll(async () => (await call(server, 'POST', '/api/query', { auth: reader.auth, body })).body.rows)
        .toEqual([[10]]);
    } finally {
      server.ctx.policies.slices = original;
    }
  });

  describe('defence in depth: the tree walk switched off', () => {
    let unguarded: QueryEngine;
    const salesFile = () => join(server.dataDir, 'extracts', 'crm', 'data', 'sales.parquet');

    beforeAll(async () => {
      unguarded = await QueryEngine.open({
        dataDir: server.dataDir,
        tempDir: server.ctx.tempDir,
        analyticsPath: server.ctx.orchestrator.analyticsPath,
        settings: server.ctx.config.query,
        remoteExtensions: [],
        installExtensions: false,
        env: {},
        log: { warn: () => undefined, error: () => undefined },
        treeWalk: false,
      });
    });
    afterAll(async () => unguarded.close());

    it("refuses the table's own file to a bound reader: only the slice is in the allow-list", async () => {
      views.set('sales', sliceView(EU));
      const policies = new QueryPolicies(server.ctx.policies, {
        id: reader.id,
        email: reader.email,
        role: 'analyst',
        active: true,
        is_service: false,
        groups: [],
      });
      const asReader = (sql: string): QueryRequest => ({
        caller: {
          userId: reader.id,
          admin: false,
          readable: ['sales', 'plain'],
          isVisible: () => true,
          bindings: policies.resolver!,
        },
        sql,
        requestId: 'defence',
      });
      const outcome = (sql: string) =>
        unguarded.query(asReader(sql), 100).then(
          (result) => `rows: ${JSON.stringify(result.rows)}`,
          (error: { code?: string; message?: string }) => `${error.code}: ${error.message}`,
        );
      expect(await outcome('SELECT count(*) FROM sales')).toBe('rows: [[10]]');
      // `plain` is unbound, so the extract is attached; its own view of `sales` reads a file that
      // is not in the allow-list any more than the path itself.
      for (const sql of [
        `SELECT count(*) FROM read_parquet('${salesFile()}')`,
        'SELECT count(*) FROM crm.main.sales',
      ])
        expect(await outcome(sql)).toBe('query_failed: access to external resources is not allowed');
    });
  });
});

async function publishedSales(server: TestServer): Promise<SliceTable> {
  const state = await server.ctx.repos.syncState.getState('sales');
  return {
    table_id: 'sales',
    hash: state!.hash,
    layout: state!.layout,
    files: state!.files,
    query_mode: 'local',
  };
}

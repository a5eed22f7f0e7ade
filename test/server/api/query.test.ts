import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck } from '../../../src/core/duckdb/engine.js';
import { QueryEngine, type QueryRequest } from '../../../src/core/query/engine.js';
import { HOSTILE, LEGITIMATE } from '../../core/query/corpus.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { publishShop } from './sync-fixtures.js';

const NO_RATE_LIMIT = { auth: { rate_limits: { query: { max: 100_000, window_seconds: 60 } } } };

/** A runaway statement: far more work than any test timeout allows. */
const RUNAWAY = 'SELECT sum(a.range * b.range) FROM range(10000000) a, range(10000000) b';

async function grantRead(server: TestServer, userId: string, dataset: string, by: string) {
  await server.ctx.repos.permissions.grantUser(userId, { dataset, access: 'read', granted_by: by });
}

describe('query API (/api/query, /api/query/export, catalog preview)', () => {
  let server: TestServer;
  let admin: TestUser;
  let reader: TestUser;
  let viewer: TestUser;

  beforeAll(async () => {
    server = await withServer({ config: NO_RATE_LIMIT });
    await publishShop(server.ctx, server.dataDir);
    [admin, reader, viewer] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'viewer'),
    ]);
    await grantRead(server, reader.id, 'orders', admin.id);
  });
  afterAll(async () => server.close());

  const query = (user: TestUser, sql: string, limit?: number) =>
    call(server, 'POST', '/api/query', { auth: user.auth, body: limit ? { sql, limit } : { sql } });

  it('answers every hostile case of the corpus with its status and code, and never with rows', async () => {
    const wrong: string[] = [];
    for (const c of HOSTILE) {
      const response = await query(reader, c.sql);
      if (response.status !== c.status || response.body?.code !== c.code || 'rows' in (response.body ?? {}))
        wrong.push(`${c.sql} → ${response.status} ${response.body?.code}`);
    }
    expect(wrong).toEqual([]);
    expect(HOSTILE.length).toBeGreaterThanOrEqual(150);
  });

  it('runs every legitimate case of the corpus', async () => {
    const wrong: string[] = [];
    for (const sql of LEGITIMATE) {
      const response = await query(reader, sql);
      if (response.status !== 200) wrong.push(`${sql} → ${response.status} ${response.text}`);
    }
    expect(wrong).toEqual([]);
  });

  it('returns a QueryResult with columns, DuckDB types and the encodings of 05 §6', async () => {
    const response = await query(
      reader,
      `SELECT 1::TINYINT AS i, 9007199254740993::BIGINT AS big, 12.50::DECIMAL(10,2) AS dec,
        'nan'::DOUBLE AS nan, true AS b, DATE '2026-04-09' AS d, TIME '07:08:09.5' AS t,
        TIMESTAMP '2026-04-09 07:00:00' AS ts, TIMESTAMPTZ '2026-04-09 07:00:00+02' AS tz,
        INTERVAL '1 day 2 hours' AS iv, '\\x01\\x02'::BLOB AS blob, [1, 2] AS list,
        {'a': 1} AS s, MAP {'k': 'v'} AS m, NULL AS n, 170141183460469231731687303715884105727::HUGEINT AS huge`,
    );
    expect(response.status).toBe(200);
    expect(response.body.columns).toEqual([
      'i',
      'big',
      'dec',
      'nan',
      'b',
      'd',
      't',
      'ts',
      'tz',
      'iv',
      'blob',
      'list',
      's',
      'm',
      'n',
      'huge',
    ]);
    expect(response.body.column_types.slice(0, 3)).toEqual(['TINYINT', 'BIGINT', 'DECIMAL(10,2)']);
    expect(response.body.rows).toEqual([
      [
        1,
        '9007199254740993',
        '12.50',
        'NaN',
        true,
        '2026-04-09',
        '07:08:09.500000',
        '2026-04-09T07:00:00',
        '2026-04-09T05:00:00Z',
        'P1DT2H',
        'AQI=',
        [1, 2],
        { a: 1 },
        [{ key: 'k', value: 'v' }],
        null,
        '170141183460469231731687303715884105727',
      ],
    ]);
    expect(response.body).toMatchObject({ row_count: 1, truncated: false, truncated_reason: null });
  });

  it('caps rows at the limit and says so', async () => {
    const response = await query(reader, 'SELECT * FROM orders ORDER BY id', 7);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ row_count: 7, truncated: true, truncated_reason: 'rows' });
    expect(response.body.rows.map((r: unknown[]) => r[0])).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const exact = await query(reader, 'SELECT * FROM orders', 50);
    expect(exact.body).toMatchObject({ row_count: 50, truncated: false });
    const tooMany = await query(reader, 'SELECT 1', 100_001);
    expect(tooMany.status).toBe(422);
  });

  it('maps engine errors without suggestions, paths or catalogs (05 §7)', async () => {
    const column = await query(reader, 'SELECT nope FROM orders');
    expect(column.status).toBe(400);
    expect(column.body.code).toBe('query_failed');
    expect(column.body.detail).not.toMatch(/did you mean|candidate/i);
    const cast = await query(reader, "SELECT CAST('x' AS INTEGER)");
    expect(cast).toMatchObject({ status: 400, body: { code: 'query_failed' } });
    for (const response of [column, cast]) {
      expect(response.text).not.toContain(server.dataDir);
      expect(response.text).not.toContain('shop.main');
      expect(response.text).not.toMatch(/\n\s+at /);
    }
  });

  it('lets admins query every published view, unregistered ones too, but never qualified names', async () => {
    const scratch = await query(admin, 'SELECT count(*) AS n FROM scratch');
    expect(scratch.status).toBe(200);
    expect(scratch.body.rows).toEqual([[2]]);
    expect((await query(admin, 'SELECT * FROM shop.main.salaries')).status).toBe(403);
    expect((await query(admin, "SELECT * FROM read_parquet('x.parquet')")).status).toBe(400);
  });

  it('follows grants as they change: grant → rows, revoke → 403', async () => {
    const user = await createUser(server.ctx, 'analyst');
    expect((await query(user, 'SELECT count(*) FROM salaries')).status).toBe(403);
    await grantRead(server, user.id, 'salaries', admin.id);
    const granted = await query(user, 'SELECT count(*) FROM salaries');
    expect(granted.status).toBe(200);
    expect(granted.body.rows).toEqual([[5]]);
    await server.ctx.repos.permissions.revokeUser(user.id, 'salaries');
    expect((await query(user, 'SELECT count(*) FROM salaries')).status).toBe(403);
  });

  it('refuses viewers and anonymous callers, and oversized SQL with 413', async () => {
    expect((await query(viewer, 'SELECT 1')).status).toBe(403);
    expect((await call(server, 'POST', '/api/query', { body: { sql: 'SELECT 1' } })).status).toBe(401);
    const big = await query(reader, `SELECT '${'x'.repeat(2 * 1024 * 1024)}'`);
    expect(big.status).toBe(413);
    const extra = await call(server, 'POST', '/api/query', {
      auth: reader.auth,
      body: { sql: 'SELECT 1', x: 1 },
    });
    expect(extra.status).toBe(422);
  });

  it('audits each query with the SQL cut to 2,000 characters, row count and truncation', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const sql = `SELECT 1 AS x /* ${'c'.repeat(3000)} */`;
    expect((await query(user, sql)).status).toBe(200);
    const deadline = Date.now() + 5_000;
    let items: { params: unknown }[] = [];
    while (items.length === 0 && Date.now() < deadline) {
      items = (
        await server.ctx.repos.audit.list(
          { user_id: user.id, action: 'query.execute' },
          { page: 1, per_page: 5 },
        )
      ).items as { params: unknown }[];
      if (items.length === 0) await new Promise((r) => setTimeout(r, 20));
    }
    const params = items[0]?.params as { sql: string; row_count: number; truncated: boolean };
    expect(params.sql.length).toBe(2000);
    expect(params).toMatchObject({ row_count: 1, truncated: false });
  });

  describe('export', () => {
    const exportOf = (user: TestUser, body: Record<string, unknown>) =>
      fetch(`${server.url}/api/query/export`, {
        method: 'POST',
        headers: { authorization: user.auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    it('streams CSV with RFC 4180 quoting', async () => {
      const response = await exportOf(reader, {
        sql: `SELECT id, 'a,"b"' AS q FROM orders ORDER BY id LIMIT 2`,
        format: 'csv',
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-disposition')).toBe('attachment; filename="export.csv"');
      expect(await response.text()).toBe('id,q\r\n0,"a,""b"""\r\n1,"a,""b"""\r\n');
    });

    it('streams NDJSON with the JSON encodings, cut at max_rows', async () => {
      const response = await exportOf(reader, {
        sql: 'SELECT id, amount FROM orders ORDER BY id',
        format: 'ndjson',
        max_rows: 3,
      });
      expect(response.status).toBe(200);
      const lines = (await response.text())
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([
        { id: 0, amount: '0.0' },
        { id: 1, amount: '1.5' },
        { id: 2, amount: '3.0' },
      ]);
    });

    it('writes Parquet in the sandbox, streams it and deletes it', async () => {
      const response = await exportOf(reader, { sql: 'SELECT * FROM orders; -- all', format: 'parquet' });
      expect(response.status).toBe(200);
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
      expect(response.headers.get('content-length')).toBe(String(bytes.length));
      const file = join(server.dataDir, 'tmp', 'export-check.parquet');
      const { writeFile, readdir } = await import('node:fs/promises');
      await writeFile(file, bytes);
      const duck = await openDuck();
      try {
        const reader2 = await duck.conn.runAndReadAll(`SELECT count(*) FROM read_parquet('${file}')`);
        expect(Number(reader2.getRows()[0]?.[0])).toBe(50);
      } finally {
        duck.close();
      }
      const leftovers: string[] = [];
      for (const dir of await readdir(join(server.ctx.tempDir, 'query')))
        leftovers.push(...(await readdir(join(server.ctx.tempDir, 'query', dir, 'export'))));
      expect(leftovers).toEqual([]);
    });

    it('refuses before the first byte with the normal codes', async () => {
      const forbidden = await exportOf(reader, { sql: 'SELECT * FROM salaries', format: 'csv' });
      expect(forbidden.status).toBe(403);
      expect(((await forbidden.json()) as { code: string }).code).toBe('table_forbidden');
      const file = await exportOf(reader, { sql: "SELECT * FROM 'x.csv'", format: 'parquet' });
      expect(file.status).toBe(400);
      const format = await exportOf(reader, { sql: 'SELECT 1', format: 'xlsx' });
      expect(format.status).toBe(422);
    });
  });

  describe('catalog preview', () => {
    const preview = (user: TestUser, path: string) => call(server, 'GET', path, { auth: user.auth });

    it('returns the first rows of a readable table through the guard', async () => {
      const response = await preview(reader, '/api/catalog/tables/orders/preview?limit=3');
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ columns: ['id', 'label', 'amount'], row_count: 3 });
      const fallback = await preview(reader, '/api/catalog/tables/holidays/preview');
      expect(fallback.body.row_count).toBe(12);
    });

    it('is 403 for visible unreadable tables, 404 for invisible ones and 422 for bad limits', async () => {
      expect((await preview(reader, '/api/catalog/tables/salaries/preview')).status).toBe(403);
      expect((await preview(reader, '/api/catalog/tables/secret_plans/preview')).status).toBe(404);
      expect((await preview(reader, '/api/catalog/tables/scratch/preview')).status).toBe(404);
      expect((await preview(reader, '/api/catalog/tables/..%2F_meta/preview')).status).toBe(404);
      expect((await preview(reader, '/api/catalog/tables/orders/preview?limit=101')).status).toBe(422);
      expect((await preview(viewer, '/api/catalog/tables/orders/preview')).status).toBe(403);
    });
  });

  describe('defence in depth: the tree walk switched off (05 §8)', () => {
    let unguarded: QueryEngine;
    const refusals: Record<string, unknown>[] = [];
    const salaries = () => join(server.dataDir, 'extracts', 'shop', 'data', 'salaries.parquet');

    beforeAll(async () => {
      unguarded = await QueryEngine.open({
        dataDir: server.dataDir,
        tempDir: server.ctx.tempDir,
        analyticsPath: server.ctx.orchestrator.analyticsPath,
        settings: server.ctx.config.query,
        remoteExtensions: [],
        installExtensions: false,
        env: {},
        log: { warn: () => undefined, error: (detail) => void refusals.push(detail) },
        treeWalk: false,
      });
    });
    afterAll(async () => unguarded.close());

    const asReader = (sql: string): QueryRequest => ({
      caller: { userId: reader.id, admin: false, readable: ['orders'], isVisible: () => true },
      sql,
      requestId: 'defence',
    });

    it('still cannot read an ungranted table: no view, and its files are outside the allow-list', async () => {
      const granted = await unguarded.query(asReader('SELECT count(*) FROM orders'), 10);
      expect(granted.rows).toEqual([[50]]);
      const attempts = [
        'SELECT * FROM salaries',
        'SELECT * FROM main.salaries',
        'SELECT * FROM shop.main.salaries',
        'SELECT * FROM shop.salaries',
        `SELECT * FROM read_parquet('${salaries()}')`,
        `SELECT * FROM '${salaries()}'`,
        "SELECT * FROM 'extracts/shop/data/salaries.parquet'",
        `SELECT * FROM read_blob('${salaries()}')`,
        `SELECT * FROM parquet_metadata('${salaries()}')`,
        `SELECT * FROM glob('${join(server.dataDir, 'extracts', '*')}')`,
        `SELECT * FROM read_text('${join(server.dataDir, 'instance.yaml')}')`,
        `SELECT * FROM read_csv('${join(server.dataDir, 'state', 'system.sqlite')}')`,
        "SELECT * FROM query('SELECT * FROM shop.main.salaries')",
        "SELECT * FROM query_table('salaries')",
        `ATTACH '${join(server.dataDir, 'extracts', 'shop', 'extract.duckdb')}' AS again`,
        'SET enable_external_access = true',
        "SELECT * FROM read_csv('/etc/passwd')",
      ];
      const outcome = (sql: string) =>
        unguarded.query(asReader(sql), 10).then(
          (result) => `rows: ${JSON.stringify(result.rows)}`,
          (error: { code?: string; message?: string }) => `${error.code}: ${error.message}`,
        );
      const leaked: string[] = [];
      for (const sql of attempts) {
        const result = await outcome(sql);
        if (result.startsWith('rows')) leaked.push(`${sql} → ${result}`);
      }
      expect(leaked).toEqual([]);
      // Layer 3 refuses the file itself, also through the attached extract's own view.
      for (const sql of [`SELECT * FROM read_parquet('${salaries()}')`, 'SELECT * FROM shop.main.salaries'])
        expect(await outcome(sql)).toBe('query_failed: access to external resources is not allowed');
      // Each refusal inside the engine is logged as a possible guard bypass, with request id and SQL.
      expect(refusals.length).toBeGreaterThanOrEqual(2);
      expect(refusals).toContainEqual(
        expect.objectContaining({ request_id: 'defence', sql: 'SELECT * FROM shop.main.salaries' }),
      );
      // Layer 2: the view does not exist in this grant set's sandbox.
      expect(await outcome('SELECT * FROM salaries')).toMatch(/^query_failed: .*salaries/);
    });
  });
});

describe('query limits', () => {
  let server: TestServer;
  let admin: TestUser;
  let reader: TestUser;

  beforeAll(async () => {
    server = await withServer({
      config: {
        ...NO_RATE_LIMIT,
        query: {
          timeout_seconds: 1,
          max_result_bytes: '2KB',
          per_user_concurrency: 1,
          global_concurrency: 4,
        },
      },
    });
    await publishShop(server.ctx, server.dataDir);
    [admin, reader] = await Promise.all([createUser(server.ctx, 'admin'), createUser(server.ctx, 'analyst')]);
    await grantRead(server, reader.id, 'orders', admin.id);
  });
  afterAll(async () => server.close());

  const query = (user: TestUser, sql: string, limit?: number) =>
    call(server, 'POST', '/api/query', { auth: user.auth, body: limit ? { sql, limit } : { sql } });

  /** The slot of a timed-out query is freed once the engine has stopped: retried with a deadline. */
  async function eventuallyRuns(user: TestUser): Promise<number> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const response = await query(user, 'SELECT 1');
      if (response.status !== 429 || Date.now() > deadline) return response.status;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('interrupts a runaway query at the timeout with 408, and the server stays responsive', async () => {
    const started = Date.now();
    const response = await query(reader, RUNAWAY);
    expect(response.status).toBe(408);
    expect(response.body).toMatchObject({ code: 'query_timeout', detail: 'query timed out after 1 s' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await eventuallyRuns(reader)).toBe(200);
  });

  it('stops at max_result_bytes with truncated_reason "bytes"', async () => {
    const response = await query(reader, "SELECT repeat('x', 100) AS s FROM range(1000)", 1000);
    expect(response.status).toBe(200);
    expect(response.body.truncated).toBe(true);
    expect(response.body.truncated_reason).toBe('bytes');
    expect(response.body.row_count).toBeGreaterThan(5);
    expect(response.body.row_count).toBeLessThan(30);
  });

  it('answers 429 too_many_queries beyond the per-user cap while other users still run', async () => {
    const other = await createUser(server.ctx, 'analyst');
    const slow = query(reader, RUNAWAY);
    // The first query holds the user's only slot until its timeout; poll until it does.
    const deadline = Date.now() + 5_000;
    let second = await query(reader, 'SELECT 1');
    while (second.status === 200 && Date.now() < deadline) second = await query(reader, 'SELECT 1');
    expect(second.status).toBe(429);
    expect(second.body.code).toBe('too_many_queries');
    expect((await query(other, 'SELECT 1')).status).toBe(200);
    expect((await slow).status).toBe(408);
    expect(await eventuallyRuns(reader)).toBe(200);
  });
});

describe('global query concurrency', () => {
  let server: TestServer;
  let first: TestUser;
  let second: TestUser;

  beforeAll(async () => {
    server = await withServer({
      config: { ...NO_RATE_LIMIT, query: { timeout_seconds: 7, global_concurrency: 1 } },
    });
    [first, second] = await Promise.all([createUser(server.ctx, 'admin'), createUser(server.ctx, 'admin')]);
  });
  afterAll(async () => server.close());

  it('lets a query wait 5 s for a slot, then answers 429 server_busy', async () => {
    const runaway = call(server, 'POST', '/api/query', { auth: first.auth, body: { sql: RUNAWAY } });
    // The runaway query holds the only slot once it is running: poll with a query that waits.
    const deadline = Date.now() + 5_000;
    while (server.ctx.query.openSandboxes === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    const busy = await call(server, 'POST', '/api/query', { auth: second.auth, body: { sql: 'SELECT 1' } });
    expect(busy.status).toBe(429);
    expect(busy.body.code).toBe('server_busy');
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_900);
    expect((await runaway).status).toBe(408);
  });
});

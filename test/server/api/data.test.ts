import { createHash } from 'node:crypto';
import { readFile, rename, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../../src/core/state/repositories/index.js';
import { makeExtract } from '../../support/extracts.js';
import { writePaddedTable } from '../../support/padded-parquet.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { registerTable } from './fixtures.js';
import { publishShop, rawGet } from './sync-fixtures.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** A download with its raw bytes (the JSON helper would decode them). */
async function download(
  server: TestServer,
  path: string,
  auth: string | undefined,
  headers: Record<string, string> = {},
  method = 'GET',
) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...headers, ...(auth ? { authorization: auth } : {}) },
  });
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, body };
}

/** Audit rows are written after the response; waits (bounded) until `count` rows match. */
async function auditRows(server: TestServer, filter: { user_id: string; action: string }, count: number) {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const page = await server.ctx.repos.audit.list(filter, { page: 1, per_page: 200 });
    if (page.items.length >= count || Date.now() > deadline) return page.items as AuditEntry[];
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('data downloads (/api/data)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;
  let reader: TestUser;
  let viewer: TestUser;
  let ordersBytes: Buffer;

  beforeAll(async () => {
    server = await withServer({
      config: { auth: { rate_limits: { default: { max: 100_000, window_seconds: 60 } } } },
    });
    await publishShop(server.ctx, server.dataDir);
    [admin, analyst, reader, viewer] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'viewer'),
    ]);
    for (const dataset of ['orders', 'events', 'web.*'])
      await server.ctx.repos.permissions.grantUser(reader.id, {
        dataset,
        access: 'read',
        granted_by: admin.id,
      });
    ordersBytes = await readFile(join(server.dataDir, 'extracts', 'shop', 'data', 'orders.parquet'));
  });
  afterAll(async () => server.close());

  it('streams a single-file table with the content hash as ETag and every header of 03 §5', async () => {
    const state = await server.ctx.repos.syncState.getState('orders');
    const response = await download(server, '/api/data/orders/download', reader.auth);
    expect(response.status).toBe(200);
    expect(response.body.equals(ordersBytes)).toBe(true);
    const hash = sha256(response.body);
    expect(state?.hash).toBe(hash);
    expect(response.headers.get('etag')).toBe(`"${hash}"`);
    expect(response.headers.get('x-content-sha256')).toBe(hash);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="orders.parquet"');
    expect(response.headers.get('content-length')).toBe(String(ordersBytes.length));
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('cache-control')).toBe('private, no-cache');
    const lastModified = response.headers.get('last-modified');
    expect(lastModified && Date.parse(lastModified)).toBeGreaterThan(0);

    const manifest = await call(server, 'GET', '/api/sync/manifest', { auth: reader.auth });
    expect(manifest.body.tables.orders.hash).toBe(hash);
    expect(manifest.body.tables.orders.files).toEqual([
      { name: 'orders.parquet', size: ordersBytes.length, hash },
    ]);
  });

  it('answers 404 for what the caller cannot see and 403 for visible tables without a grant', async () => {
    const cases: [TestUser, string, number, string?][] = [
      [analyst, 'orders', 403, 'table_forbidden'],
      [analyst, 'salaries', 403, 'table_forbidden'],
      [analyst, 'secret_plans', 404, 'not_found'],
      [analyst, 'scratch', 404, 'not_found'],
      [analyst, 'no_such_table', 404, 'not_found'],
      [analyst, 'holidays', 200],
      [reader, 'orders', 200],
      [admin, 'scratch', 200],
      [admin, 'secret_plans', 200],
      [admin, 'no_such_table', 404, 'not_found'],
      [admin, 'broken', 404, 'not_found'],
    ];
    for (const [user, table, status, code] of cases) {
      const response = await download(server, `/api/data/${table}/download`, user.auth);
      expect(response.status, `${user.role} ${table}`).toBe(status);
      if (code) expect(JSON.parse(response.body.toString()).code, `${user.role} ${table}`).toBe(code);
    }
    expect((await download(server, '/api/data/holidays/download', viewer.auth)).status).toBe(403);
    const anonymous = await download(server, '/api/data/holidays/download', undefined);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('sends multi-file tables shard by shard and refuses the whole-table route and remote tables', async () => {
    const whole = await download(server, '/api/data/events/download', reader.auth);
    expect(whole.status).toBe(409);
    expect(JSON.parse(whole.body.toString()).code).toBe('multi_file_table');
    const remote = await download(server, '/api/data/clicks/download', reader.auth);
    expect(remote.status).toBe(409);
    expect(JSON.parse(remote.body.toString()).code).toBe('remote_table');
    expect((await download(server, '/api/data/clicks/files/x.parquet', reader.auth)).status).toBe(409);

    const manifest = await call(server, 'GET', '/api/sync/manifest', { auth: reader.auth });
    const files = manifest.body.tables.events.files as { name: string; size: number; hash: string }[];
    expect(files.map((f) => f.name)).toEqual(['part-0.parquet', 'part-1.parquet', 'part-2.parquet']);
    for (const file of files) {
      const shard = await download(server, `/api/data/events/files/${file.name}`, reader.auth);
      expect(shard.status).toBe(200);
      expect(sha256(shard.body)).toBe(file.hash);
      expect(shard.body.length).toBe(file.size);
      expect(shard.headers.get('etag')).toBe(`"${file.hash}"`);
      expect(shard.headers.get('content-disposition')).toBe(`attachment; filename="${file.name}"`);
    }
    // Only names recorded for the table: another table's file, or a valid but unknown shard, are 404.
    expect((await download(server, '/api/data/events/files/part-9.parquet', reader.auth)).status).toBe(404);
    expect((await download(server, '/api/data/events/files/orders.parquet', reader.auth)).status).toBe(404);
    const single = await download(server, '/api/data/orders/files/orders.parquet', reader.auth);
    expect(single.status).toBe(200);
    expect(single.body.equals(ordersBytes)).toBe(true);
    expect((await download(server, '/api/data/salaries/files/salaries.parquet', reader.auth)).status).toBe(
      403,
    );
  });

  it('honours If-None-Match lists, weak tags and *, with 304 left out of the audit log', async () => {
    const user = await createUser(server.ctx, 'analyst');
    await server.ctx.repos.permissions.grantUser(user.id, {
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
    const etag = `"${sha256(ordersBytes)}"`;
    for (const header of [etag, `"other", ${etag}`, `W/${etag}`, '*']) {
      const response = await download(server, '/api/data/orders/download', user.auth, {
        'if-none-match': header,
      });
      expect(response.status, header).toBe(304);
      expect(response.body.length).toBe(0);
      expect(response.headers.get('etag')).toBe(etag);
    }
    const changed = await download(server, '/api/data/orders/download', user.auth, {
      'if-none-match': '"stale"',
    });
    expect(changed.status).toBe(200);
    const rows = await auditRows(server, { user_id: user.id, action: 'data.download' }, 1);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      resource: 'orders',
      status_code: 200,
      result: 'ok',
      params: { table: 'orders', file: 'orders.parquet', range: null },
    });
  });

  it('serves single ranges as 206, several as 200, and refuses unsatisfiable ones with 416', async () => {
    const size = ordersBytes.length;
    const ranges: [string, number, number][] = [
      ['bytes=0-9', 0, 9],
      ['bytes=100-', 100, size - 1],
      ['bytes=-16', size - 16, size - 1],
      [`bytes=5-${size + 1000}`, 5, size - 1],
    ];
    for (const [header, start, end] of ranges) {
      const response = await download(server, '/api/data/orders/download', reader.auth, { range: header });
      expect(response.status, header).toBe(206);
      expect(response.headers.get('content-range')).toBe(`bytes ${start}-${end}/${size}`);
      expect(response.headers.get('content-length')).toBe(String(end - start + 1));
      expect(response.body.equals(ordersBytes.subarray(start, end + 1))).toBe(true);
    }
    for (const header of ['bytes=0-9,20-29', 'bytes=abc', 'items=0-9', 'bytes=9-2']) {
      const response = await download(server, '/api/data/orders/download', reader.auth, { range: header });
      expect(response.status, header).toBe(200);
      expect(response.body.equals(ordersBytes)).toBe(true);
    }
    for (const header of [`bytes=${size}-`, 'bytes=-0', `bytes=${size + 10}-${size + 20}`]) {
      const response = await download(server, '/api/data/orders/download', reader.auth, { range: header });
      expect(response.status, header).toBe(416);
      expect(response.headers.get('content-range')).toBe(`bytes */${size}`);
      expect(JSON.parse(response.body.toString()).code).toBe('range_not_satisfiable');
    }
    const user = await createUser(server.ctx, 'analyst');
    await server.ctx.repos.permissions.grantUser(user.id, {
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
    await download(server, '/api/data/orders/download', user.auth, { range: 'bytes=0-9' });
    await download(server, '/api/data/orders/download', user.auth, { range: `bytes=${size}-` });
    const rows = await auditRows(server, { user_id: user.id, action: 'data.download' }, 1);
    expect(rows.map((r) => [r.status_code, r.params?.range])).toEqual([[206, 'bytes=0-9']]);
  });

  it('applies a range only while If-Range still matches', async () => {
    const first = await download(server, '/api/data/orders/download', reader.auth, { range: 'bytes=0-3' });
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    const cases: [string, number][] = [
      [etag, 206],
      [lastModified, 206],
      ['"something-else"', 200],
      [`W/${etag}`, 200],
      ['Thu, 01 Jan 1970 00:00:00 GMT', 200],
    ];
    for (const [ifRange, status] of cases) {
      const response = await download(server, '/api/data/orders/download', reader.auth, {
        range: 'bytes=0-3',
        'if-range': ifRange,
      });
      expect(response.status, ifRange).toBe(status);
      expect(response.body.length).toBe(status === 206 ? 4 : ordersBytes.length);
    }
  });

  it('answers HEAD with the headers of GET and no body, unaudited', async () => {
    const user = await createUser(server.ctx, 'analyst');
    await server.ctx.repos.permissions.grantUser(user.id, {
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
    const head = await download(server, '/api/data/orders/download', user.auth, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(head.headers.get('content-length')).toBe(String(ordersBytes.length));
    expect(head.headers.get('etag')).toBe(`"${sha256(ordersBytes)}"`);
    const partial = await download(
      server,
      '/api/data/orders/download',
      user.auth,
      { range: 'bytes=0-9' },
      'HEAD',
    );
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-length')).toBe('10');
    const shard = await download(server, '/api/data/events/files/part-0.parquet', reader.auth, {}, 'HEAD');
    expect(shard.status).toBe(200);
    expect((await download(server, '/api/data/salaries/download', user.auth, {}, 'HEAD')).status).toBe(403);
    expect((await download(server, '/api/data/orders/download', undefined, {}, 'HEAD')).status).toBe(401);
    // A GET afterwards is recorded; the HEADs before it were not.
    await download(server, '/api/data/orders/download', user.auth);
    const rows = await auditRows(server, { user_id: user.id, action: 'data.download' }, 1);
    expect(rows).toHaveLength(1);
  });

  it('answers 409 stale_manifest when the file behind the record changed, until the next rebuild', async () => {
    const extracts = join(server.dataDir, 'extracts');
    await makeExtract(extracts, 'volatile', [{ name: 'prices', rows: 30 }]);
    await server.ctx.orchestrator.rebuildSource('volatile');
    await registerTable(server.ctx, 'prices', { source: 'volatile', is_public: true });
    const before = await download(server, '/api/data/prices/download', analyst.auth);
    expect(before.status).toBe(200);

    // Rewritten in place with the same size: only the modification time tells.
    const file = join(extracts, 'volatile', 'data', 'prices.parquet');
    const bytes = await readFile(file);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await writeFile(file, bytes);
    const stale = await download(server, '/api/data/prices/download', analyst.auth);
    expect(stale.status).toBe(409);
    expect(JSON.parse(stale.body.toString()).code).toBe('stale_manifest');

    // Replaced by new content through the writer: stale until the rebuild publishes the new record.
    await makeExtract(extracts, 'volatile', [{ name: 'prices', rows: 31 }]);
    expect((await download(server, '/api/data/prices/download', analyst.auth)).status).toBe(409);
    await server.ctx.orchestrator.rebuildSource('volatile');
    const after = await download(server, '/api/data/prices/download', analyst.auth);
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).toBe(`"${sha256(after.body)}"`);
    expect(after.headers.get('etag')).not.toBe(before.headers.get('etag'));
  });

  it('never follows a symlink put where a published file was', async () => {
    const extracts = join(server.dataDir, 'extracts');
    await makeExtract(extracts, 'linked', [{ name: 'rates', rows: 4 }]);
    await server.ctx.orchestrator.rebuildSource('linked');
    await registerTable(server.ctx, 'rates', { source: 'linked', is_public: true });
    const file = join(extracts, 'linked', 'data', 'rates.parquet');
    const state = await server.ctx.repos.syncState.getState('rates');
    // Same size and the target's bytes would pass every other check; the link itself must not.
    await rename(file, `${file}.moved`);
    await symlink(`${file}.moved`, file);
    const response = await download(server, '/api/data/rates/download', analyst.auth);
    expect(response.status).toBe(409);
    expect(response.body.includes(Buffer.from('PAR1'))).toBe(false);
    expect(state?.status).toBe('ok');
  });

  it('returns 404 and no bytes for traversal, glob and malformed ids and shard names (S5)', async () => {
    const paths = [
      '/api/data/..%2F..%2Fstate%2Fsystem.sqlite/download',
      '/api/data/..%2Fextracts%2Fshop%2Fextract.duckdb/download',
      '/api/data/%2e%2e/download',
      '/api/data/%2E%2E%2F%2E%2E/download',
      '/api/data/*/download',
      '/api/data/salar*/download',
      '/api/data/ord%3Fers/download',
      '/api/data/orders%00/download',
      '/api/data/%00/download',
      '/api/data/orders%2Fx/download',
      '/api/data/ORDERS/download',
      '/api/data/_meta/download',
      `/api/data/${'a'.repeat(65)}/download`,
      `/api/data/${'a'.repeat(300)}/download`,
      '/api/data/events/files/..%2F..%2Fextract.duckdb',
      '/api/data/events/files/%2e%2e',
      '/api/data/events/files/..',
      '/api/data/events/files/part-0.parquet%00',
      '/api/data/events/files/*.parquet',
      '/api/data/events/files/part-%2A.parquet',
      '/api/data/events/files/events%2Fpart-0.parquet',
      '/api/data/events/files/.hidden.parquet',
      '/api/data/events/files/part-0.csv',
      `/api/data/events/files/${'p'.repeat(130)}.parquet`,
    ];
    for (const caller of [admin, reader]) {
      for (const path of paths) {
        const response = await rawGet(server, path, { authorization: caller.auth });
        expect(response.status, `${caller.role} ${path}`).toBe(404);
        expect(response.body.includes(Buffer.from('PAR1')), path).toBe(false);
        expect(response.body.includes(Buffer.from('SQLite')), path).toBe(false);
      }
    }
  });

  it('keeps the server process RSS flat while streaming a large file (R15)', async () => {
    // 256 MiB: written once (random bytes inside a valid Parquet file), then streamed through fetch.
    const bytes = 256 * 1024 * 1024;
    const written = await writePaddedTable(join(server.dataDir, 'extracts'), 'bulk', 'big_facts', bytes);
    await server.ctx.orchestrator.rebuildSource('bulk');
    await registerTable(server.ctx, 'big_facts', { source: 'bulk', is_public: true });

    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    let received = 0;
    const hash = createHash('sha256');
    try {
      const response = await fetch(`${server.url}/api/data/big_facts/download`, {
        headers: { authorization: analyst.auth },
      });
      expect(response.status).toBe(200);
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        received += chunk.byteLength;
        hash.update(chunk);
        peak = Math.max(peak, process.memoryUsage().rss);
      }
    } finally {
      clearInterval(sampler);
    }
    expect(received).toBe(written.size);
    expect(hash.digest('hex')).toBe(written.sha256);
    expect(peak - before).toBeLessThan(64 * 1024 * 1024);
  }, 30_000);
});

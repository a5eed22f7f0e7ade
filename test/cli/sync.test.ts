import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, queryRows } from '../../src/core/duckdb/engine.js';
import { registerTable } from '../server/api/fixtures.js';
import {
  type CliHome,
  type CliServer,
  cliHome,
  loginWithToken,
  runDa,
  withCliServer,
} from '../support/cli.js';
import { type FixtureTable, makeExtract } from '../support/extracts.js';
import { writePaddedTable } from '../support/padded-parquet.js';
import { type CountingProxy, startProxy } from '../support/proxy.js';
import { call } from '../support/server.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const DATA = /^\/api\/data\//;
const BLOB_BYTES = 3 * 1024 * 1024;

interface ManifestBody {
  generation: number;
  tables: Record<string, { layout: string; files: { name: string; size: number; hash: string }[] }>;
}

/** Recursive listing of every file and directory under `dir`, relative to it. */
async function listing(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

describe('da sync against a real server', () => {
  let fixture: CliServer;
  let proxy: CountingProxy;
  let home: CliHome;

  const shard = (rows: number, salt: number) =>
    `SELECT range AS id, 'shard ${salt}' AS label, range * ${salt + 1} AS amount FROM range(${rows})`;
  const labTables = (orders: number, lastShard: number): FixtureTable[] => [
    { name: 'lab_orders', rows: orders },
    { name: 'lab_events', shardSelects: [shard(100, 0), shard(100, 1), shard(lastShard, 2)] },
  ];

  async function publish(source: string, write: () => Promise<unknown>): Promise<void> {
    await write();
    const report = await fixture.server.ctx.orchestrator.rebuild();
    expect(report.sources[source]?.status).toBe('ok');
  }
  const publishLab = (orders: number, lastShard: number) =>
    publish('lab', () =>
      makeExtract(join(fixture.server.dataDir, 'extracts'), 'lab', labTables(orders, lastShard)),
    );
  /** A new random multi-MiB single-file table in source `bulk` (a new hash each time). */
  const publishBlob = () =>
    publish('bulk', () =>
      writePaddedTable(join(fixture.server.dataDir, 'extracts'), 'bulk', 'bulk_blob', BLOB_BYTES),
    );

  async function manifest(): Promise<ManifestBody> {
    const response = await call(fixture.server, 'GET', '/api/sync/manifest', { auth: fixture.analyst.auth });
    expect(response.status).toBe(200);
    return response.body as ManifestBody;
  }

  const da = (args: string[]) => runDa(args, { env: home.env });
  const parquet = (...parts: string[]) => join(home.localDir, 'server', 'parquet', ...parts);

  async function viewRows(name: string): Promise<number> {
    const duck = await openDuck(join(home.localDir, 'user', 'duckdb', 'analytics.duckdb'), {
      readOnly: true,
    });
    try {
      const [row] = await queryRows<{ n: bigint }>(duck.conn, `SELECT count(*) AS n FROM "${name}"`);
      return Number(row!.n);
    } finally {
      duck.close();
    }
  }

  async function withLocalDb(statements: string[]): Promise<void> {
    const duck = await openDuck(join(home.localDir, 'user', 'duckdb', 'analytics.duckdb'));
    try {
      for (const statement of statements) await duck.conn.run(statement);
    } finally {
      duck.close();
    }
  }

  beforeAll(async () => {
    fixture = await withCliServer();
    const { ctx } = fixture.server;
    await publishLab(200, 100);
    await publishBlob();
    for (const id of ['lab_orders', 'lab_events'])
      await registerTable(ctx, id, { source: 'lab', source_type: 'local', bucket: 'lab' });
    await registerTable(ctx, 'bulk_blob', { source: 'bulk', source_type: 'local', bucket: 'lab' });
    await ctx.repos.permissions.grantUser(fixture.analyst.id, {
      dataset: 'lab.*',
      access: 'read',
      granted_by: fixture.admin.id,
    });
    proxy = await startProxy(fixture.server.url);
    home = await cliHome();
    await loginWithToken(home, proxy.url, fixture.analyst);
  });
  afterAll(async () => {
    await proxy.close();
    await fixture.close();
    await home.cleanup();
  });

  it('first sync downloads every readable local table, checks hashes, builds views; piped output is plain', async () => {
    proxy.reset();
    const result = await da(['sync']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const current = await manifest();
    const local = Object.entries(current.tables).filter(([, t]) => t.layout !== 'remote');
    expect(local.map(([id]) => id).sort()).toEqual([
      'bulk_blob',
      'events',
      'holidays',
      'lab_events',
      'lab_orders',
      'orders',
    ]);
    const files = local.flatMap(([, t]) => t.files);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`Synced from ${proxy.url} (generation ${current.generation})`);
    expect(lines[1]).toMatch(
      new RegExp(`^  downloaded  6 tables, ${files.length} files, [0-9.]+ MB in [0-9.]+ s$`),
    );
    expect(lines[2]).toBe('  unchanged   0   removed 0   remote 0');
    expect(lines).toHaveLength(3);
    expect(result.stdout).not.toContain('\x1b');

    for (const [id, table] of local) {
      for (const file of table.files) {
        const path = table.layout === 'single' ? parquet(`${id}.parquet`) : parquet(id, file.name);
        expect(sha256(await readFile(path))).toBe(file.hash);
      }
    }
    // Exactly the manifest's bytes went over the wire, once.
    expect(proxy.bytes(DATA)).toBe(files.reduce((sum, f) => sum + f.size, 0));
    expect(await viewRows('lab_orders')).toBe(200);
    expect(await viewRows('lab_events')).toBe(300);
    expect(await viewRows('events')).toBe(60);
  });

  it('a no-op sync downloads no Parquet bytes (manifest 304), and --json prints one document', async () => {
    proxy.reset();
    const result = await da(['sync', '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      downloaded: [],
      removed: [],
      remote: [],
      errors: [],
      bytes_downloaded: 0,
    });
    expect(report.unchanged).toHaveLength(6);
    expect(proxy.requests.filter((r) => DATA.test(r.path))).toEqual([]);
    expect(proxy.requests.map((r) => [r.path, r.status])).toEqual([['/api/sync/manifest', 304]]);
  });

  it('a deleted local database is rebuilt by the next sync, though nothing changed on the server', async () => {
    await rm(join(home.localDir, 'user', 'duckdb', 'analytics.duckdb'));
    const result = await da(['sync', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).downloaded).toEqual([]);
    expect(await viewRows('lab_orders')).toBe(200);
  });

  it('a changed table re-downloads only its file; a changed shard only that shard', async () => {
    await publishLab(300, 100);
    proxy.reset();
    let report = JSON.parse((await da(['sync', '--json'])).stdout);
    expect(report.downloaded).toEqual([{ table: 'lab_orders', files: 1, bytes: expect.any(Number) }]);
    expect(proxy.requests.filter((r) => DATA.test(r.path)).map((r) => r.path)).toEqual([
      '/api/data/lab_orders/download',
    ]);
    expect(await viewRows('lab_orders')).toBe(300);

    await publishLab(300, 150);
    proxy.reset();
    report = JSON.parse((await da(['sync', '--json'])).stdout);
    expect(report.downloaded).toEqual([{ table: 'lab_events', files: 1, bytes: expect.any(Number) }]);
    const served = proxy.requests.filter((r) => DATA.test(r.path));
    expect(served.map((r) => r.path)).toEqual(['/api/data/lab_events/files/part-2.parquet']);
    const part2 = (await manifest()).tables.lab_events!.files.find((f) => f.name === 'part-2.parquet')!;
    expect(served[0]!.bodyBytes).toBe(part2.size);
    expect(await viewRows('lab_events')).toBe(350);
  });

  it('a download cut mid-file resumes from where it stopped with Range', async () => {
    await publishBlob();
    const blob = (await manifest()).tables.bulk_blob!.files[0]!;
    proxy.reset();
    const cutAt = 1024 * 1024;
    proxy.fault(/^\/api\/data\/bulk_blob\//, { kind: 'cut', afterBytes: cutAt });
    const result = await da(['sync', '--json']);
    expect(result.code).toBe(0);
    const requests = proxy.requests.filter((r) => r.path.startsWith('/api/data/bulk_blob/'));
    // The retry asks for what the `.part` file lacks: at most the cut point, less whatever was still
    // in flight inside the client when the connection dropped.
    const offset = Number(/^bytes=(\d+)-$/.exec(requests[1]?.range ?? '')?.[1]);
    expect(offset).toBeGreaterThan(cutAt / 2);
    expect(offset).toBeLessThanOrEqual(cutAt);
    expect(requests.map((r) => [r.status, r.range, r.bodyBytes])).toEqual([
      [200, null, cutAt],
      [206, `bytes=${offset}-`, blob.size - offset],
    ]);
    expect(sha256(await readFile(parquet('bulk_blob.parquet')))).toBe(blob.hash);
    await expect(stat(parquet('bulk_blob.parquet.part'))).rejects.toThrow();
  });

  it('a corrupted download is caught by its hash and fetched again', async () => {
    await publishLab(400, 150);
    const orders = (await manifest()).tables.lab_orders!.files[0]!;
    proxy.reset();
    proxy.fault(/^\/api\/data\/lab_orders\//, { kind: 'corrupt' });
    const result = await da(['sync', '--json']);
    expect(result.code).toBe(0);
    expect(proxy.requests.filter((r) => DATA.test(r.path)).map((r) => r.bodyBytes)).toEqual([
      orders.size,
      orders.size,
    ]);
    expect(sha256(await readFile(parquet('lab_orders.parquet')))).toBe(orders.hash);
  });

  it('a download corrupted twice fails safely: the old copy stays, no partial file is left', async () => {
    const orders = (await manifest()).tables.lab_orders!.files[0]!;
    await publishLab(500, 150);
    proxy.reset();
    proxy.fault(/^\/api\/data\/lab_orders\//, { kind: 'corrupt' }, 2);
    const result = await da(['sync', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).errors).toEqual([
      {
        table: 'lab_orders',
        file: 'lab_orders.parquet',
        code: 'hash_mismatch',
        message: expect.stringContaining('SHA-256'),
      },
    ]);
    // The previous good copy is untouched and no partial file is left behind.
    expect(sha256(await readFile(parquet('lab_orders.parquet')))).toBe(orders.hash);
    await expect(stat(parquet('lab_orders.parquet.part'))).rejects.toThrow();
    expect(await viewRows('lab_orders')).toBe(400);
  });

  it('a server error on one table exits 1 and names it; the others sync, and the next run retries it', async () => {
    await publishLab(600, 175);
    proxy.reset();
    proxy.fault(/^\/api\/data\/lab_orders\//, { kind: 'status', status: 500, detail: 'disk on fire' });
    const result = await da(['sync']);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '  errors      1\n    lab_orders/lab_orders.parquet: server error (500): disk on fire',
    );
    expect(result.stdout).toMatch(/downloaded {2}1 tables, 1 files/);
    expect(await viewRows('lab_events')).toBe(375);

    // The failed table is retried even though the manifest has not changed since.
    proxy.reset();
    const again = JSON.parse((await da(['sync', '--json'])).stdout);
    expect(again.downloaded.map((d: { table: string }) => d.table)).toEqual(['lab_orders']);
    expect(await viewRows('lab_orders')).toBe(600);
  });

  it('keeps the views and tables the user created while replacing its own', async () => {
    await withLocalDb([
      'CREATE VIEW my_summary AS SELECT count(*) AS n FROM lab_orders',
      'CREATE TABLE my_notes AS SELECT 42 AS answer',
      'CREATE VIEW lab_shadow AS SELECT 1 AS x',
    ]);
    await publishLab(700, 175);
    const result = await da(['sync', '--json']);
    expect(result.code).toBe(0);
    const duck = await openDuck(join(home.localDir, 'user', 'duckdb', 'analytics.duckdb'), {
      readOnly: true,
    });
    try {
      expect(await queryRows(duck.conn, 'SELECT n FROM my_summary')).toEqual([{ n: 700n }]);
      expect(await queryRows(duck.conn, 'SELECT answer FROM my_notes')).toEqual([{ answer: 42 }]);
      expect(await queryRows(duck.conn, 'SELECT x FROM lab_shadow')).toEqual([{ x: 1 }]);
    } finally {
      duck.close();
    }
  });

  it('refuses manifest ids and shard names that would escape the local directory, writing nothing', async () => {
    const before = await listing(home.root);
    proxy.reset();
    proxy.fault(/^\/api\/sync\/manifest$/, {
      kind: 'rewrite',
      body: (original) => {
        const body = JSON.parse(original.toString('utf8')) as ManifestBody;
        const file = { name: 'evil.parquet', size: 4, hash: 'a'.repeat(64) };
        const table = (id: string, files = [file]) => ({ ...body.tables.lab_orders!, id, files });
        body.tables['../../evil'] = table('../../evil');
        body.tables['a/b'] = table('a/b');
        body.tables.lab_escape = {
          ...table('lab_escape', [{ ...file, name: '../../../escape.parquet' }]),
          layout: 'multi',
        };
        body.tables.lab_remote = { ...table('lab_remote', []), layout: 'remote' };
        return Buffer.from(JSON.stringify(body));
      },
    });
    const result = await da(['sync', '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout);
    expect(report.remote).toEqual(['lab_remote']);
    const errors = report.errors as { table: string; code: string }[];
    expect(errors.map((e) => [e.table, e.code]).sort()).toEqual([
      ['../../evil', 'unsafe_name'],
      ['a/b', 'unsafe_name'],
      ['lab_escape', 'unsafe_name'],
    ]);
    expect(proxy.requests.filter((r) => DATA.test(r.path))).toEqual([]);
    expect(await listing(home.root)).toEqual(before);
  });

  it('never writes through a symlink planted in place of a synced file', async () => {
    const outside = join(home.root, 'outside.txt');
    await writeFile(outside, 'keep me');
    await rm(parquet('orders.parquet'));
    await symlink(outside, parquet('orders.parquet'));
    const result = await da(['sync', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).errors).toEqual([
      { table: 'orders', code: 'unsafe_name', message: 'a symlink is in the way' },
    ]);
    expect(await readFile(outside, 'utf8')).toBe('keep me');
    await rm(parquet('orders.parquet'));
  });

  it('a table no longer readable is pruned locally; naming it with --table is a not-found error', async () => {
    await fixture.server.ctx.repos.permissions.revokeUser(fixture.analyst.id, 'lab.*');
    const result = await da(['sync', '--json']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).removed.sort()).toEqual(['bulk_blob', 'lab_events', 'lab_orders']);
    expect(await listing(parquet())).not.toContain('lab_orders.parquet');
    expect((await listing(parquet())).filter((p) => p.startsWith('lab_') || p.startsWith('bulk_'))).toEqual(
      [],
    );
    await expect(viewRows('lab_orders')).rejects.toThrow();
    expect(await viewRows('orders')).toBe(50);

    const named = await da(['sync', '--table', 'lab_orders']);
    expect(named.code).toBe(5);
    expect(named.stdout).toBe('');
    expect(named.stderr).toBe(
      'error: not on the server for you: lab_orders (removed, or no read access); run: da sync to list and prune\n',
    );
  });
});

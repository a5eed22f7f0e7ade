import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DuckSession, openDuck, queryRows } from '../../../src/core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../../src/core/duckdb/sql.js';
import { AgnesError } from '../../../src/core/errors.js';
import type { AttachRemote, RemoteAttachRequest } from '../../../src/core/extract/remote-attach.js';
import { ExtractWriter } from '../../../src/core/extract/writer.js';
import { type OrchestratorOptions, SyncOrchestrator } from '../../../src/core/orchestrator/orchestrator.js';
import type { RebuildReport } from '../../../src/core/orchestrator/report.js';
import { orchestratorStateStore } from '../../../src/core/orchestrator/state-store.js';
import { openStateDb, type StateDb } from '../../../src/core/state/db.js';
import { migrateToLatest } from '../../../src/core/state/migrate.js';
import {
  FIXED_TIME,
  type FixtureTable,
  makeExtract,
  tempDir,
  writeRawExtract,
} from '../../support/extracts.js';

let root: string;
let extracts: string;
let analytics: string;
let db: StateDb;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  const dir = await tempDir('agnes-orchestrator-');
  root = dir.path;
  cleanup = dir.cleanup;
  extracts = join(root, 'extracts');
  analytics = join(root, 'analytics', 'server.duckdb');
  await mkdir(extracts);
  db = openStateDb(root);
  await migrateToLatest(db);
});

afterEach(async () => {
  await db.destroy();
  await cleanup();
});

function orchestrator(options: Partial<OrchestratorOptions> = {}): SyncOrchestrator {
  return new SyncOrchestrator({ dataDir: root, state: orchestratorStateStore(db), env: {}, ...options });
}

const source = (name: string, tables: FixtureTable[]) => makeExtract(extracts, name, tables);

// ---------------------------------------------------------------------------------------------
// Reading what was published, as a reader would.

interface Published {
  generation: number;
  mode: string;
  report: RebuildReport;
  collisions: unknown[];
  remoteAttach: Record<string, unknown>[];
  views: string[];
  viewMap: Record<string, unknown>[];
  /** Row count of every published view, read through the view. */
  counts: Record<string, number>;
}

const parse = (value: unknown) => (typeof value === 'string' ? JSON.parse(value) : value);

/**
 * Opens an analytics file read-only, attaches every extract its view map names (and the given
 * remote catalogs) READ_ONLY under its source name, as readers must, then reads it all.
 */
async function openReader(path: string, remotes: Record<string, string> = {}): Promise<DuckSession> {
  const reader = await openDuck(path, { readOnly: true });
  try {
    const sources = await queryRows<{ source: string }>(
      reader.conn,
      'SELECT DISTINCT source FROM _agnes_views ORDER BY source',
    );
    for (const { source: name } of sources) {
      const file = join(extracts, name, 'extract.duckdb');
      await reader.conn.run(`ATTACH ${quoteLiteral(file)} AS ${quoteIdent(name)} (READ_ONLY)`);
    }
    for (const [alias, file] of Object.entries(remotes)) {
      await reader.conn.run(`ATTACH ${quoteLiteral(file)} AS ${quoteIdent(alias)} (READ_ONLY)`);
    }
    return reader;
  } catch (error) {
    reader.close();
    throw error;
  }
}

async function readPublished(conn: DuckSession['conn']): Promise<Published> {
  const [build] = await queryRows(conn, 'SELECT * FROM _agnes_build');
  const views = (
    await queryRows<{ view_name: string }>(
      conn,
      `SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal
       ORDER BY view_name`,
    )
  ).map((v) => v.view_name);
  const viewMap = (await queryRows(conn, 'SELECT * FROM _agnes_views ORDER BY view_name')).map((row) => ({
    ...row,
    files: parse(row.files),
    rows: row.rows === null ? null : Number(row.rows),
    size_bytes: row.size_bytes === null ? null : Number(row.size_bytes),
  }));
  const counts: Record<string, number> = {};
  for (const view of views) {
    const [row] = await queryRows<{ n: bigint }>(conn, `SELECT count(*) AS n FROM main.${quoteIdent(view)}`);
    counts[view] = Number(row?.n);
  }
  return {
    generation: Number(build?.generation),
    mode: String(build?.mode),
    report: parse(build?.report) as RebuildReport,
    collisions: parse(build?.collisions) as unknown[],
    remoteAttach: parse(build?.remote_attach) as Record<string, unknown>[],
    views,
    viewMap,
    counts,
  };
}

async function published(remotes: Record<string, string> = {}): Promise<Published> {
  const reader = await openReader(analytics, remotes);
  try {
    return await readPublished(reader.conn);
  } finally {
    reader.close();
  }
}

const states = () => db.selectFrom('sync_state').selectAll().orderBy('table_id').execute();
const history = (generation?: number) => {
  let query = db.selectFrom('sync_history').selectAll().orderBy('source').orderBy('table_id');
  if (generation !== undefined) query = query.where('generation', '=', generation);
  return query.execute();
};

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

/** Every file under `dir` with its size and mtime, to prove a run changed nothing there. */
async function fingerprint(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const info = await stat(path).catch(() => null);
    out.push(
      `${path.slice(dir.length)} ${entry.isSymbolicLink() ? 'link' : `${info?.size}:${info?.mtimeMs}`}`,
    );
  }
  return out.sort();
}

// ---------------------------------------------------------------------------------------------
// Remote catalogs through the documented seam.

/** A DuckDB file standing in for a remote catalog: schema `sales`, table `events` with 5 rows. */
async function makeRemoteCatalog(path: string): Promise<void> {
  const duck = await openDuck(path);
  try {
    await duck.conn.run('CREATE SCHEMA sales');
    await duck.conn.run('CREATE TABLE sales.events AS SELECT range AS id, range * 2 AS amount FROM range(5)');
    await duck.conn.run('CHECKPOINT');
  } finally {
    duck.close();
  }
}

/** The seam: attaches the DuckDB file named by the url under the alias, whatever the extension says. */
function fileSeam(calls: RemoteAttachRequest[] = []): AttachRemote {
  return async (conn, request) => {
    calls.push(request);
    await conn.run(`ATTACH ${quoteLiteral(request.url)} AS ${quoteIdent(request.alias)} (READ_ONLY)`);
  };
}

/** A source with a local table `<name>_orders` and a remote table `<name>_events` read through alias `kbc`. */
async function makeHybrid(
  name: string,
  remotePath: string,
  remote: { extension: string; tokenEnv: string },
): Promise<void> {
  const writer = await ExtractWriter.open(join(extracts, name));
  const duck = await openDuck();
  try {
    const file = await writer.writeParquet(duck.conn, 'orders.parquet', 'SELECT range AS id FROM range(3)');
    writer.addLocalTable({
      name: `${name}_orders`,
      extractedAt: FIXED_TIME,
      layout: 'single',
      files: [file],
    });
    writer.addRemoteAttach({
      alias: 'kbc',
      extension: remote.extension,
      url: remotePath,
      token_env: remote.tokenEnv,
    });
    writer.addRemoteTable({
      name: `${name}_events`,
      rows: 5,
      extractedAt: FIXED_TIME,
      alias: 'kbc',
      select: 'SELECT * FROM kbc.sales.events',
    });
    const result = await writer.commit({
      attachRemote: fileSeam(),
      env: { [remote.tokenEnv]: 'fixture-token' },
    });
    expect(result.failed).toEqual([]);
  } finally {
    duck.close();
    await writer.abort();
  }
}

/**
 * Re-publishes a source's extract with the same files (untouched) and only `_meta` values changed,
 * optionally keeping only some of its tables.
 */
async function republish(
  name: string,
  change: { description?: string; extractedAt?: string; keep?: string[] },
): Promise<void> {
  const writer = await ExtractWriter.open(join(extracts, name));
  try {
    const previous = await writer.previous();
    for (const meta of previous?.meta ?? []) {
      if (change.keep && !change.keep.includes(meta.table_name)) continue;
      const files = previous!.files.filter((f) => f.table_name === meta.table_name);
      writer.addLocalTable({
        name: meta.table_name,
        description: change.description ?? meta.description,
        extractedAt: change.extractedAt ?? meta.extracted_at!,
        layout: files.length === 1 && !files[0]!.path.includes('/') ? 'single' : 'multi',
        files: files.map((f) => ({
          path: f.path,
          size: f.size_bytes,
          sha256: f.sha256,
          rows: (meta.rows ?? 0) / files.length,
        })),
      });
    }
    expect((await writer.commit()).failed).toEqual([]);
  } finally {
    await writer.abort();
  }
}

/** A gate a `pause` hook can wait on, with a promise that resolves when the hook reaches it. */
function gate(point: string) {
  let open!: () => void;
  let reached!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  const arrived = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let used = false;
  return {
    arrived,
    open,
    pause: async (at: string) => {
      if (used || at !== point) return;
      used = true;
      reached();
      await opened;
    },
  };
}

// ---------------------------------------------------------------------------------------------

describe('full rebuild: publication', () => {
  it('publishes a view per table with its view-map row, and the generation increments per run', async () => {
    const dir = await source('shop', [
      { name: 'orders', rows: 25, description: 'All orders' },
      { name: 'issues', rows: 4, shards: 3 },
    ]);
    const o = orchestrator();

    const first = await o.rebuild();

    expect(first).toMatchObject({
      generation: 1,
      mode: 'full',
      source: null,
      escalated_from: null,
      views: 2,
      collisions: [],
      skipped_entries: [],
    });
    expect(first.sources).toEqual({
      shop: {
        status: 'ok',
        reason: null,
        tables: ['issues', 'orders'],
        remote_tables: [],
        skipped_tables: [],
        remote_attach: [],
      },
    });
    const pub = await published();
    expect(pub.views).toEqual(['issues', 'orders']);
    expect(pub.counts).toEqual({ issues: 12, orders: 25 });
    expect(pub).toMatchObject({ generation: 1, mode: 'full', collisions: [], remoteAttach: [] });
    expect(pub.report).toEqual(first);

    const ordersFile = join(dir, 'data', 'orders.parquet');
    const ordersHash = await sha256(ordersFile);
    const ordersSize = (await stat(ordersFile)).size;
    const shards = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const path = join(dir, 'data', 'issues', `part-${i}.parquet`);
        return { name: `part-${i}.parquet`, size: (await stat(path)).size, hash: await sha256(path) };
      }),
    );
    const issuesHash = createHash('sha256')
      .update(shards.map((s) => `${s.name}\t${s.size}\t${s.hash}\n`).join(''))
      .digest('hex');
    expect(pub.viewMap).toEqual([
      {
        view_name: 'issues',
        table_id: 'issues',
        source: 'shop',
        query_mode: 'local',
        layout: 'multi',
        files: shards.map((s) => ({
          ...s,
          path: `extracts/shop/data/issues/${s.name}`,
          mtime_ns: expect.stringMatching(/^\d+$/),
        })),
        data_dir: 'extracts/shop/data/issues',
        remote_alias: null,
        rows: 12,
        size_bytes: shards.reduce((sum, s) => sum + s.size, 0),
        extracted_at: new Date(FIXED_TIME),
        hash: issuesHash,
        description: null,
      },
      {
        view_name: 'orders',
        table_id: 'orders',
        source: 'shop',
        query_mode: 'local',
        layout: 'single',
        files: [
          {
            name: 'orders.parquet',
            path: 'extracts/shop/data/orders.parquet',
            size: ordersSize,
            hash: ordersHash,
            mtime_ns: expect.stringMatching(/^\d+$/),
          },
        ],
        data_dir: null,
        remote_alias: null,
        rows: 25,
        size_bytes: ordersSize,
        extracted_at: new Date(FIXED_TIME),
        hash: ordersHash,
        description: 'All orders',
      },
    ]);

    const second = await o.rebuild();

    expect(second.generation).toBe(2);
    expect((await published()).generation).toBe(2);
    expect(await o.currentGeneration()).toBe(2);
  });

  it('emits the new generation after each publication', async () => {
    await source('shop', [{ name: 'orders' }]);
    const o = orchestrator();
    const seen: number[] = [];
    o.on('generation', (generation: number) => seen.push(generation));

    await o.rebuild();
    await o.rebuildSource('shop');

    expect(seen).toEqual([1, 2]);
  });
});

describe('full rebuild: bad sources are skipped with a reason, others publish', () => {
  it('fails a source whose extract.duckdb is garbage with attach_failed', async () => {
    await source('good', [{ name: 'orders' }]);
    await mkdir(join(extracts, 'corrupt'));
    await writeFile(join(extracts, 'corrupt', 'extract.duckdb'), Buffer.alloc(64 * 1024, 'garbage!'));

    const report = await orchestrator().rebuild();

    expect(report.sources.corrupt).toEqual({
      status: 'failed',
      reason: 'attach_failed',
      tables: [],
      remote_tables: [],
      skipped_tables: [],
      remote_attach: [],
    });
    expect(report.sources.good?.status).toBe('ok');
    expect((await published()).counts).toEqual({ orders: 10 });
  });

  it('fails zero-byte and truncated extract files with attach_failed', async () => {
    await source('good', [{ name: 'orders' }]);
    await mkdir(join(extracts, 'empty_file'));
    await writeFile(join(extracts, 'empty_file', 'extract.duckdb'), '');
    const torn = await source('torn', [
      { name: 'torn_a', rows: 5 },
      { name: 'torn_b', rows: 5, shards: 2 },
    ]);
    await truncate(
      join(torn, 'extract.duckdb'),
      Math.floor((await stat(join(torn, 'extract.duckdb'))).size / 2),
    );

    const report = await orchestrator().rebuild();

    expect(report.sources.empty_file).toMatchObject({
      status: 'failed',
      reason: 'attach_failed',
      tables: [],
    });
    expect(report.sources.torn).toMatchObject({ status: 'failed', reason: 'attach_failed', tables: [] });
    for (const skipped of report.sources.torn?.skipped_tables ?? [])
      expect(skipped.detail).not.toContain(root);
    expect(report.sources.good?.tables).toEqual(['orders']);
    expect((await published()).views).toEqual(['orders']);
  });

  it('reports a directory without extract.duckdb as missing_extract', async () => {
    await source('good', [{ name: 'orders' }]);
    await mkdir(join(extracts, 'pending', 'data'), { recursive: true });

    const report = await orchestrator().rebuild();

    expect(report.sources.pending).toMatchObject({ status: 'failed', reason: 'missing_extract', tables: [] });
    expect((await published()).views).toEqual(['orders']);
  });

  it('publishes an empty generation with no_extracts when extracts/ does not exist, creating nothing there', async () => {
    await rm(extracts, { recursive: true });

    const report = await orchestrator().rebuild();

    expect(report).toMatchObject({
      generation: 1,
      views: 0,
      sources: {},
      skipped_entries: [{ entry: 'extracts', reason: 'no_extracts' }],
    });
    expect(await stat(extracts).catch(() => null)).toBeNull();
    const pub = await published();
    expect(pub).toMatchObject({ generation: 1, views: [], viewMap: [] });
  });

  it('skips a directory named with SQL as invalid_name and never runs SQL with that name', async () => {
    const evil = 'evil; DROP TABLE users--';
    await source('good', [{ name: 'orders' }]);
    await source(evil, [{ name: 'evil_table' }]);

    const report = await orchestrator().rebuild();

    expect(report.skipped_entries).toEqual([{ entry: evil, reason: 'invalid_name' }]);
    expect(Object.keys(report.sources)).toEqual(['good']);
    expect(
      await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst(),
    ).toEqual({ n: 0 });
    const reader = await openReader(analytics);
    try {
      const objects = await queryRows<{ name: string }>(
        reader.conn,
        `SELECT database_name AS name FROM duckdb_databases()
         UNION ALL SELECT view_name || ' ' || sql FROM duckdb_views() WHERE NOT internal
         UNION ALL SELECT table_name FROM duckdb_tables()
         UNION ALL SELECT source || ' ' || view_name FROM _agnes_views`,
      );
      expect(objects.length).toBeGreaterThan(0);
      for (const { name } of objects) expect(name.toLowerCase()).not.toContain('evil');
      expect((await readPublished(reader.conn)).views).toEqual(['orders']);
    } finally {
      reader.close();
    }
    expect((await states()).map((s) => s.source)).toEqual(['good']);
  });

  it('skips reserved names, symlinks, plain files and a case-insensitive duplicate', async () => {
    await source('Sales', [{ name: 'upper_orders' }]);
    await source('sales', [{ name: 'lower_orders' }]);
    await source('main', [{ name: 'main_orders' }]);
    await source('Memory', [{ name: 'memory_orders' }]);
    const target = await makeExtract(join(root, 'elsewhere'), 'target', [{ name: 'linked_orders' }]);
    await symlink(target, join(extracts, 'linked'));
    await writeFile(join(extracts, 'notes.txt'), 'not a source');

    const report = await orchestrator().rebuild();

    expect(report.skipped_entries).toEqual([
      { entry: 'Memory', reason: 'invalid_name' },
      { entry: 'linked', reason: 'symlink' },
      { entry: 'main', reason: 'invalid_name' },
      { entry: 'notes.txt', reason: 'not_a_directory' },
      { entry: 'sales', reason: 'duplicate_source' },
    ]);
    expect(Object.keys(report.sources)).toEqual(['Sales']);
    expect((await published()).counts).toEqual({ upper_orders: 10 });
  });

  it('skips a _meta table name carrying SQL as invalid_table_name and publishes the rest', async () => {
    const dir = await source('shop', [{ name: 'y' }, { name: 'z', rows: 3 }]);
    const evil = 'x"; DROP VIEW y; --';
    await writeRawExtract(dir, [
      `INSERT INTO _meta VALUES (${quoteLiteral(evil)}, NULL, 1, 1, NULL, 'local')`,
    ]);

    const report = await orchestrator().rebuild();

    expect(report.sources.shop).toMatchObject({
      status: 'partial',
      tables: ['y', 'z'],
      skipped_tables: [{ table: evil, reason: 'invalid_table_name', detail: expect.any(String) }],
    });
    const pub = await published();
    expect(pub.views).toEqual(['y', 'z']);
    expect(pub.counts).toEqual({ y: 10, z: 3 });
  });

  it('fails a source whose _meta has the wrong columns with invalid_meta', async () => {
    await source('good', [{ name: 'orders' }]);
    const dir = await source('shop', [{ name: 'items' }]);
    await writeRawExtract(dir, ['ALTER TABLE _meta DROP COLUMN description']);

    const report = await orchestrator().rebuild();

    expect(report.sources.shop).toMatchObject({ status: 'failed', reason: 'invalid_meta', tables: [] });
    expect((await published()).views).toEqual(['orders']);
  });

  it('resolves a name collision in byte order and reports it', async () => {
    await source('beta', [
      { name: 'ORDERS', rows: 7 },
      { name: 'b_only', rows: 2 },
    ]);
    await source('alpha', [
      { name: 'orders', rows: 3 },
      { name: 'a_only', rows: 1 },
    ]);

    const report = await orchestrator().rebuild();

    expect(report.collisions).toEqual([{ table: 'orders', kept: 'alpha', dropped: 'beta' }]);
    expect(report.sources.alpha).toMatchObject({ status: 'ok', tables: ['a_only', 'orders'] });
    expect(report.sources.beta).toMatchObject({
      status: 'partial',
      tables: ['b_only'],
      skipped_tables: [
        { table: 'ORDERS', reason: 'name_collision', detail: expect.stringContaining('alpha') },
      ],
    });
    const pub = await published();
    expect(pub.counts).toEqual({ a_only: 1, b_only: 2, orders: 3 });
    expect(pub.collisions).toEqual(report.collisions);
    expect(pub.viewMap.find((v) => v.table_id === 'orders')).toMatchObject({ source: 'alpha' });
    expect((await states()).find((s) => s.table_id === 'orders')).toMatchObject({ source: 'alpha', rows: 3 });
  });

  it('skips only the table that does not bind (bind_failed) and publishes the rest as partial', async () => {
    const dir = await source('shop', [
      { name: 'orders' },
      { name: 'issues', rows: 2, shards: 2 },
      { name: 'gone' },
    ]);
    await rm(join(dir, 'data', 'gone.parquet'));

    const report = await orchestrator().rebuild();

    expect(report.sources.shop).toMatchObject({
      status: 'partial',
      reason: null,
      tables: ['issues', 'orders'],
      skipped_tables: [{ table: 'gone', reason: 'bind_failed', detail: expect.any(String) }],
    });
    expect(report.sources.shop?.skipped_tables[0]?.detail).not.toContain(root);
    expect((await published()).counts).toEqual({ issues: 4, orders: 10 });
  });

  it('skips a view reading a file outside its data/ as file_mismatch', async () => {
    const shop = await source('shop', [{ name: 'orders' }, { name: 'items', rows: 2 }]);
    const other = await source('other', [{ name: 'secret', rows: 10 }]);
    const foreign = join(other, 'data', 'secret.parquet');
    await writeRawExtract(shop, [
      `CREATE OR REPLACE VIEW orders AS SELECT * FROM read_parquet(${quoteLiteral(foreign)})`,
    ]);

    const report = await orchestrator().rebuild();

    expect(report.sources.shop).toMatchObject({
      status: 'partial',
      tables: ['items'],
      skipped_tables: [{ table: 'orders', reason: 'file_mismatch', detail: expect.any(String) }],
    });
    expect(report.sources.shop?.skipped_tables[0]?.detail).not.toContain(root);
    expect((await published()).views).toEqual(['items', 'secret']);
  });
});

describe('full rebuild: remote catalogs', () => {
  const TOKEN = 'tok-3f9a7c1e5b2d';

  it('keeps local tables and skips remote ones as remote_unavailable when token_env is unset', async () => {
    const remote = join(root, 'remote.duckdb');
    await makeRemoteCatalog(remote);
    await makeHybrid('hybrid', remote, { extension: 'duckdb', tokenEnv: 'KBC_TOKEN' });
    const calls: RemoteAttachRequest[] = [];

    const report = await orchestrator({ env: {}, attachRemote: fileSeam(calls) }).rebuild();

    expect(report.sources.hybrid).toEqual({
      status: 'partial',
      reason: null,
      tables: ['hybrid_orders'],
      remote_tables: [],
      skipped_tables: [{ table: 'hybrid_events', reason: 'remote_unavailable', detail: expect.any(String) }],
      remote_attach: [{ alias: 'kbc', extension: 'duckdb', status: 'token_missing' }],
    });
    expect(calls).toEqual([]);
    const pub = await published();
    expect(pub.counts).toEqual({ hybrid_orders: 3 });
    expect(pub.remoteAttach).toEqual([]);
  });

  it('publishes the remote view when the token is set, passing the token only to the seam', async () => {
    const remote = join(root, 'remote.duckdb');
    await makeRemoteCatalog(remote);
    await makeHybrid('hybrid', remote, { extension: 'duckdb', tokenEnv: 'KBC_TOKEN' });
    const calls: RemoteAttachRequest[] = [];

    const report = await orchestrator({ env: { KBC_TOKEN: TOKEN }, attachRemote: fileSeam(calls) }).rebuild();

    expect(report.sources.hybrid).toEqual({
      status: 'ok',
      reason: null,
      tables: ['hybrid_orders'],
      remote_tables: ['hybrid_events'],
      skipped_tables: [],
      remote_attach: [{ alias: 'kbc', extension: 'duckdb', status: 'attached' }],
    });
    expect(calls).toEqual([{ alias: 'kbc', extension: 'duckdb', url: remote, token: TOKEN }]);
    const pub = await published({ kbc: remote });
    expect(pub.counts).toEqual({ hybrid_events: 5, hybrid_orders: 3 });
    expect(pub.viewMap.find((v) => v.view_name === 'hybrid_events')).toMatchObject({
      query_mode: 'remote',
      layout: 'remote',
      remote_alias: 'kbc',
      files: [],
      hash: null,
      size_bytes: 0,
    });
    expect(pub.remoteAttach).toEqual([
      { source: 'hybrid', alias: 'kbc', extension: 'duckdb', url: remote, token_env: 'KBC_TOKEN' },
    ]);
    const build = await readFile(analytics);
    expect(build.includes(Buffer.from(TOKEN))).toBe(false);
    expect(JSON.stringify(report)).not.toContain(TOKEN);
    expect(JSON.stringify(await states())).not.toContain(TOKEN);
  });

  it('re-attaches a shared remote alias when one of its sources is rebuilt alone', async () => {
    const remote = join(root, 'remote.duckdb');
    await makeRemoteCatalog(remote);
    await makeHybrid('hybrid', remote, { extension: 'duckdb', tokenEnv: 'KBC_TOKEN' });
    await makeHybrid('second', remote, { extension: 'duckdb', tokenEnv: 'KBC_TOKEN' });
    const calls: RemoteAttachRequest[] = [];
    const o = orchestrator({ env: { KBC_TOKEN: TOKEN }, attachRemote: fileSeam(calls) });
    const full = await o.rebuild();
    expect(full.sources.second?.remote_attach).toEqual([
      { alias: 'kbc', extension: 'duckdb', status: 'attached' },
    ]);
    expect(calls).toHaveLength(1);

    const report = await o.rebuildSource('second');

    expect(report).toMatchObject({
      mode: 'source',
      source: 'second',
      sources: { second: { status: 'ok', tables: ['second_orders'], remote_tables: ['second_events'] } },
    });
    expect(calls).toHaveLength(2);
    const pub = await published({ kbc: remote });
    expect(pub.counts).toEqual({ hybrid_events: 5, hybrid_orders: 3, second_events: 5, second_orders: 3 });
    expect(pub.remoteAttach.map((r) => r.source).sort()).toEqual(['hybrid', 'second']);
  });

  it('refuses an extension outside the allow-list as extension_not_allowed without attaching', async () => {
    const remote = join(root, 'remote.duckdb');
    await makeRemoteCatalog(remote);
    await makeHybrid('hybrid', remote, { extension: 'postgres', tokenEnv: 'KBC_TOKEN' });
    const calls: RemoteAttachRequest[] = [];

    const report = await orchestrator({ env: { KBC_TOKEN: TOKEN }, attachRemote: fileSeam(calls) }).rebuild();

    expect(report.sources.hybrid).toMatchObject({
      status: 'partial',
      tables: ['hybrid_orders'],
      remote_tables: [],
      skipped_tables: [{ table: 'hybrid_events', reason: 'remote_unavailable' }],
      remote_attach: [{ alias: 'kbc', extension: 'postgres', status: 'extension_not_allowed' }],
    });
    expect(calls).toEqual([]);
  });

  it('reports an allowed extension that cannot be loaded as extension_unavailable', async () => {
    const remote = join(root, 'remote.duckdb');
    await makeRemoteCatalog(remote);
    await makeHybrid('hybrid', remote, { extension: 'keboola', tokenEnv: 'KBC_TOKEN' });

    // Allowed as a connector's remote extension would be, but not installed on this machine.
    const report = await orchestrator({ env: { KBC_TOKEN: TOKEN }, remoteExtensions: ['keboola'] }).rebuild();

    expect(report.sources.hybrid).toMatchObject({
      tables: ['hybrid_orders'],
      skipped_tables: [{ table: 'hybrid_events', reason: 'remote_unavailable' }],
      remote_attach: [{ alias: 'kbc', extension: 'keboola', status: 'extension_unavailable' }],
    });
  });

  it('never puts an absolute path or the token in a report detail', async () => {
    const remote = join(root, 'remote.duckdb');
    await makeRemoteCatalog(remote);
    await makeHybrid('hybrid', remote, { extension: 'duckdb', tokenEnv: 'KBC_TOKEN' });
    await makeHybrid('nokey', remote, { extension: 'duckdb', tokenEnv: 'OTHER_TOKEN' });
    const shop = await source('shop', [{ name: 'orders' }, { name: 'gone' }, { name: 'moved' }]);
    await rm(join(shop, 'data', 'gone.parquet'));
    await writeRawExtract(shop, [`UPDATE _files SET size_bytes = 1 WHERE table_name = 'moved'`]);
    await mkdir(join(extracts, 'corrupt'));
    await writeFile(join(extracts, 'corrupt', 'extract.duckdb'), 'garbage');

    const report = await orchestrator({ env: { KBC_TOKEN: TOKEN }, attachRemote: fileSeam() }).rebuild();

    const details = Object.values(report.sources).flatMap((s) => s.skipped_tables.map((t) => t.detail));
    expect(details.length).toBeGreaterThanOrEqual(3);
    for (const detail of details) {
      expect(detail).not.toContain(root);
      expect(detail).not.toMatch(/(^|\s)\/[a-z]/);
      expect(detail).not.toContain(TOKEN);
    }
    expect(JSON.stringify(report)).not.toContain(root);
    expect(JSON.stringify(report)).not.toContain(TOKEN);
    expect(report.sources.shop?.skipped_tables.map((t) => [t.table, t.reason])).toEqual([
      ['gone', 'bind_failed'],
      ['moved', 'file_mismatch'],
    ]);
    expect(report.sources.nokey?.skipped_tables.map((t) => [t.table, t.reason])).toEqual([
      ['nokey_events', 'remote_unavailable'],
    ]);
  });

  it("does not serve a source whose token is missing through another source's attached catalog", async () => {
    const remote = join(root, 'remote.duckdb');
    await makeRemoteCatalog(remote);
    await makeHybrid('hybrid', remote, { extension: 'duckdb', tokenEnv: 'KBC_TOKEN' });
    await makeHybrid('nokey', remote, { extension: 'duckdb', tokenEnv: 'OTHER_TOKEN' });
    const calls: RemoteAttachRequest[] = [];

    const report = await orchestrator({ env: { KBC_TOKEN: TOKEN }, attachRemote: fileSeam(calls) }).rebuild();

    expect(report.sources.hybrid).toMatchObject({ status: 'ok', remote_tables: ['hybrid_events'] });
    expect(report.sources.nokey).toMatchObject({
      status: 'partial',
      tables: ['nokey_orders'],
      remote_tables: [],
      skipped_tables: [{ table: 'nokey_events', reason: 'remote_unavailable' }],
      remote_attach: [{ alias: 'kbc', extension: 'duckdb', status: 'token_missing' }],
    });
    expect(calls).toHaveLength(1);
    const pub = await published({ kbc: remote });
    expect(pub.views).toEqual(['hybrid_events', 'hybrid_orders', 'nokey_orders']);
    expect(pub.remoteAttach).toEqual([
      { source: 'hybrid', alias: 'kbc', extension: 'duckdb', url: remote, token_env: 'KBC_TOKEN' },
    ]);
  });
});

describe('full rebuild: idempotence and state', () => {
  it('gives the same views and view map on an unchanged rebuild, adding only source history rows', async () => {
    await source('shop', [{ name: 'orders' }, { name: 'issues', rows: 2, shards: 2 }]);
    await source('other', [{ name: 'items', rows: 4 }]);
    const o = orchestrator();
    await o.rebuild();
    const before = await published();
    const statesBefore = await states();
    const historyBefore = await history();

    const report = await o.rebuild();

    const after = await published();
    expect(report.generation).toBe(2);
    expect(after.views).toEqual(before.views);
    expect(after.viewMap).toEqual(before.viewMap);
    expect(after.counts).toEqual(before.counts);
    expect(await states()).toEqual(statesBefore);
    expect(await history(1)).toEqual(historyBefore);
    expect((await history(2)).map((h) => [h.source, h.table_id, h.status])).toEqual([
      ['other', null, 'ok'],
      ['shop', null, 'ok'],
    ]);
  });

  it('records sync_state from the extract and moves last_sync only when the hash or extracted_at change', async () => {
    let now = Date.parse('2026-05-01T10:00:00.000Z');
    const clock = { now: () => new Date(now) };
    const dir = await source('shop', [{ name: 'orders', rows: 25, description: 'Orders' }]);
    const o = orchestrator({ clock });
    const file = join(dir, 'data', 'orders.parquet');

    const r1 = await o.rebuild();

    const [s1] = await states();
    expect(s1).toEqual({
      table_id: 'orders',
      source: 'shop',
      query_mode: 'local',
      layout: 'single',
      last_sync: r1.finished_at,
      extracted_at: FIXED_TIME,
      rows: 25,
      file_size_bytes: (await stat(file)).size,
      uncompressed_size_bytes: expect.any(Number),
      columns: 3,
      hash: await sha256(file),
      files: [
        {
          name: 'orders.parquet',
          path: 'extracts/shop/data/orders.parquet',
          size: (await stat(file)).size,
          hash: await sha256(file),
          mtime_ns: expect.any(String),
        },
      ],
      status: 'ok',
      error: null,
      watermark: null,
      description: 'Orders',
      updated_generation: 1,
    });
    expect(s1?.uncompressed_size_bytes).toBeGreaterThan(0);

    now += 60_000;
    await o.rebuild();
    expect(await states()).toEqual([s1]);

    now += 60_000;
    await republish('shop', { description: 'Every order' });
    await o.rebuild();
    const [s3] = await states();
    expect(s3).toEqual({ ...s1, description: 'Every order', updated_generation: 3 });
    expect((await history(3)).filter((h) => h.table_id !== null)).toEqual([]);

    now += 60_000;
    await republish('shop', { extractedAt: '2026-04-10T08:00:00.000Z' });
    const r4 = await o.rebuild();
    const [s4] = await states();
    expect(s4).toEqual({
      ...s3,
      extracted_at: '2026-04-10T08:00:00.000Z',
      last_sync: r4.finished_at,
      updated_generation: 4,
    });
    expect(s4?.last_sync).not.toBe(s1?.last_sync);
    expect((await history(4)).filter((h) => h.table_id !== null)).toMatchObject([
      { table_id: 'orders', status: 'changed', rows: 25 },
    ]);

    now += 60_000;
    await source('shop', [
      { name: 'orders', rows: 40, description: 'Every order', extractedAt: '2026-04-10T08:00:00.000Z' },
    ]);
    const r5 = await o.rebuild();
    const [s5] = await states();
    expect(s5).toMatchObject({
      rows: 40,
      hash: await sha256(file),
      last_sync: r5.finished_at,
      updated_generation: 5,
    });
    expect(s5?.hash).not.toBe(s4?.hash);
  });

  it('marks removed tables, gives a failed source its reason and records changed and failed history rows', async () => {
    const shop = await source('shop', [
      { name: 'orders' },
      { name: 'issues', rows: 2, shards: 2 },
      { name: 'refunds' },
    ]);
    const other = await source('other', [{ name: 'items' }]);
    const o = orchestrator();

    await o.rebuild();
    expect((await history(1)).map((h) => [h.source, h.table_id, h.status])).toEqual([
      ['other', null, 'ok'],
      ['other', 'items', 'changed'],
      ['shop', null, 'ok'],
      ['shop', 'issues', 'changed'],
      ['shop', 'orders', 'changed'],
      ['shop', 'refunds', 'changed'],
    ]);

    // issues disappears from shop; refunds stops binding; other becomes unreadable.
    await republish('shop', { keep: ['orders', 'refunds'] });
    await rm(join(shop, 'data', 'refunds.parquet'));
    await writeFile(join(other, 'extract.duckdb'), 'garbage');
    await o.rebuild();

    const byId = Object.fromEntries((await states()).map((s) => [s.table_id, s]));
    expect(byId.issues).toMatchObject({ status: 'removed', updated_generation: 2 });
    expect(byId.refunds).toMatchObject({
      status: 'bind_failed',
      error: expect.any(String),
      updated_generation: 2,
    });
    expect(byId.items).toMatchObject({
      status: 'attach_failed',
      error: 'attach_failed',
      updated_generation: 2,
    });
    expect(byId.orders).toMatchObject({ status: 'ok', updated_generation: 1 });
    expect((await history(2)).map((h) => [h.source, h.table_id, h.status, h.error])).toEqual([
      ['other', null, 'failed', 'attach_failed'],
      ['shop', null, 'partial', 'bind_failed: refunds'],
      ['shop', 'issues', 'removed', null],
      ['shop', 'refunds', 'failed', expect.stringMatching(/^bind_failed: /)],
    ]);
  });

  it('marks the tables of a deleted source removed once, and stays quiet about it afterwards', async () => {
    await source('a', [{ name: 'orders' }]);
    await source('b', [{ name: 'items' }]);
    const o = orchestrator();
    await o.rebuild();

    await rm(join(extracts, 'a'), { recursive: true });
    await o.rebuild();
    await o.rebuild();

    expect((await states()).map((s) => [s.table_id, s.source, s.status, s.updated_generation])).toEqual([
      ['items', 'b', 'ok', 1],
      ['orders', 'a', 'removed', 2],
    ]);
    expect((await history(2)).map((h) => [h.source, h.table_id, h.status])).toEqual([
      ['a', null, 'removed'],
      ['a', 'orders', 'removed'],
      ['b', null, 'ok'],
    ]);
    expect((await history(3)).map((h) => [h.source, h.table_id, h.status])).toEqual([['b', null, 'ok']]);
    expect((await published()).views).toEqual(['items']);
  });

  it('publishes an extract without _files by convention, with the same hashes', async () => {
    const dir = await source('shop', [{ name: 'orders' }, { name: 'issues', rows: 2, shards: 3 }]);
    const o = orchestrator();
    await o.rebuild();
    const withFiles = await published();

    await writeRawExtract(dir, ['DROP TABLE _files']);
    const report = await o.rebuild();

    expect(report.sources.shop).toMatchObject({ status: 'ok', tables: ['issues', 'orders'] });
    const byConvention = await published();
    expect(byConvention.viewMap).toEqual(withFiles.viewMap);
    expect(byConvention.counts).toEqual({ issues: 6, orders: 10 });
  });
});

describe('rebuildSource', () => {
  it("changes only the named source's views, view map, state and history", async () => {
    await source('a', [{ name: 'orders', rows: 10 }]);
    await source('b', [
      { name: 'items', rows: 4 },
      { name: 'parts', rows: 2, shards: 2 },
    ]);
    const o = orchestrator();
    await o.rebuild();
    const before = await published();
    const bStates = (await states()).filter((s) => s.source === 'b');
    const historyBefore = await history();

    await source('a', [{ name: 'orders', rows: 20 }]);
    const report = await o.rebuildSource('a');

    expect(report).toMatchObject({
      generation: 2,
      mode: 'source',
      source: 'a',
      escalated_from: null,
      views: 3,
    });
    expect(Object.keys(report.sources)).toEqual(['a']);
    const after = await published();
    expect(after).toMatchObject({ generation: 2, mode: 'source' });
    expect(after.counts).toEqual({ items: 4, orders: 20, parts: 4 });
    expect(after.viewMap.filter((v) => v.source === 'b')).toEqual(
      before.viewMap.filter((v) => v.source === 'b'),
    );
    expect(after.viewMap.find((v) => v.source === 'a')?.hash).not.toBe(
      before.viewMap.find((v) => v.source === 'a')?.hash,
    );
    const now = await states();
    expect(now.filter((s) => s.source === 'b')).toEqual(bStates);
    expect(now.find((s) => s.table_id === 'orders')).toMatchObject({ rows: 20, updated_generation: 2 });
    expect(await history(1)).toEqual(historyBefore);
    expect((await history(2)).map((h) => [h.source, h.table_id, h.status])).toEqual([
      ['a', null, 'ok'],
      ['a', 'orders', 'changed'],
    ]);
  });

  it('removes the views of a source that is gone and marks its tables removed', async () => {
    await source('a', [{ name: 'orders' }, { name: 'refunds' }]);
    await source('b', [{ name: 'items' }]);
    const o = orchestrator();
    await o.rebuild();
    const bStates = (await states()).filter((s) => s.source === 'b');

    await rm(join(extracts, 'a'), { recursive: true });
    const report = await o.rebuildSource('a');

    expect(report).toMatchObject({
      mode: 'source',
      source: 'a',
      views: 1,
      sources: { a: { status: 'removed', tables: [] } },
    });
    const pub = await published();
    expect(pub.views).toEqual(['items']);
    expect(pub.viewMap.map((v) => v.source)).toEqual(['b']);
    const now = await states();
    expect(now.filter((s) => s.source === 'a').map((s) => [s.table_id, s.status])).toEqual([
      ['orders', 'removed'],
      ['refunds', 'removed'],
    ]);
    expect(now.filter((s) => s.source === 'b')).toEqual(bStates);
    expect((await history(2)).map((h) => [h.source, h.table_id, h.status])).toEqual([
      ['a', null, 'removed'],
      ['a', 'orders', 'removed'],
      ['a', 'refunds', 'removed'],
    ]);
  });

  it('rejects an invalid source name with invalid_name before running anything', async () => {
    const o = orchestrator();

    for (const name of ['evil; DROP TABLE users--', 'bad-name', 'main', '']) {
      const attempt = o.rebuildSource(name);
      await expect(attempt).rejects.toBeInstanceOf(AgnesError);
      await expect(attempt).rejects.toMatchObject({ code: 'invalid_name', status: 400 });
    }
    expect(o.runs).toBe(0);
    expect(await stat(analytics).catch(() => null)).toBeNull();
  });

  it('escalates to a full rebuild when a new table collides with a view of a source sorting after it', async () => {
    await source('a', [{ name: 'orders' }]);
    await source('b', [{ name: 'items', rows: 4 }]);
    const o = orchestrator();
    await o.rebuild();

    await source('a', [{ name: 'orders' }, { name: 'items', rows: 9 }]);
    const report = await o.rebuildSource('a');

    expect(report).toMatchObject({ mode: 'full', source: null, escalated_from: 'a', generation: 2 });
    expect(report.collisions).toEqual([{ table: 'items', kept: 'a', dropped: 'b' }]);
    expect(report.sources.b).toMatchObject({
      status: 'failed',
      skipped_tables: [{ table: 'items', reason: 'name_collision' }],
    });
    const pub = await published();
    expect(pub.counts).toEqual({ items: 9, orders: 10 });
    expect(pub.viewMap.find((v) => v.table_id === 'items')).toMatchObject({ source: 'a' });
  });

  it('escalates to a full rebuild when the winner of a collision drops the table', async () => {
    await source('a', [{ name: 'orders' }, { name: 'items', rows: 9 }]);
    await source('b', [{ name: 'items', rows: 4 }]);
    const o = orchestrator();
    const first = await o.rebuild();
    expect(first.collisions).toEqual([{ table: 'items', kept: 'a', dropped: 'b' }]);

    await source('a', [{ name: 'orders' }]);
    const report = await o.rebuildSource('a');

    expect(report).toMatchObject({ mode: 'full', escalated_from: 'a', collisions: [] });
    const pub = await published();
    expect(pub.counts).toEqual({ items: 4, orders: 10 });
    expect(pub.collisions).toEqual([]);
    expect((await states()).find((s) => s.table_id === 'items')).toMatchObject({
      source: 'b',
      rows: 4,
      status: 'ok',
    });
  });

  it('escalates to a full rebuild when the published file cannot be opened', async () => {
    await source('a', [{ name: 'orders' }]);
    const o = orchestrator();
    await o.rebuild();
    await writeFile(analytics, Buffer.alloc(64 * 1024, 'not duckdb'));

    const report = await o.rebuildSource('a');

    expect(report).toMatchObject({ mode: 'full', escalated_from: 'a' });
    expect((await published()).counts).toEqual({ orders: 10 });
  });
});

describe('concurrency and publication safety', () => {
  it('coalesces 20 concurrent rebuild calls into at most two runs, each caller getting a report', async () => {
    await source('shop', [{ name: 'orders' }]);
    const o = orchestrator();

    const reports = await Promise.all(Array.from({ length: 20 }, () => o.rebuild()));

    expect(o.runs).toBeLessThanOrEqual(2);
    expect(reports).toHaveLength(20);
    for (const report of reports)
      expect(report).toMatchObject({ mode: 'full', sources: { shop: { status: 'ok' } } });
    expect(Math.max(...reports.map((r) => r.generation))).toBe(o.runs);
    expect(await o.currentGeneration()).toBe(o.runs);
  });

  it('covers a source call made during a full run with the follow-up full run', async () => {
    await source('shop', [{ name: 'orders', rows: 10 }]);
    const hold = gate('source:shop');
    const o = orchestrator({ pause: hold.pause });

    const full = o.rebuild();
    await hold.arrived;
    await source('shop', [{ name: 'orders', rows: 40 }]);
    const sourceCall = o.rebuildSource('shop');
    hold.open();
    const [first, second] = await Promise.all([full, sourceCall]);

    expect(first).toMatchObject({ generation: 1, mode: 'full' });
    expect(second).toMatchObject({ generation: 2, mode: 'full', sources: { shop: { status: 'ok' } } });
    expect(o.runs).toBe(2);
    expect((await published()).counts).toEqual({ orders: 40 });
    expect((await states())[0]).toMatchObject({ rows: 40, updated_generation: 2 });
  });

  it('lets a reader holding the old file keep reading the old generation while new readers see the new one', async () => {
    await source('shop', [{ name: 'orders' }]);
    const o = orchestrator();
    await o.rebuild();
    const oldReader = await openReader(analytics);
    try {
      expect(await readPublished(oldReader.conn)).toMatchObject({ generation: 1, views: ['orders'] });

      await source('more', [{ name: 'items', rows: 3 }]);
      await o.rebuild();

      expect(await readPublished(oldReader.conn)).toMatchObject({
        generation: 1,
        views: ['orders'],
        counts: { orders: 10 },
      });
      expect(await published()).toMatchObject({
        generation: 2,
        views: ['items', 'orders'],
        counts: { items: 3, orders: 10 },
      });
    } finally {
      oldReader.close();
    }
  });

  it('leaves no WAL or temp files in analytics/, and removes a stale temp file left by a crash', async () => {
    await source('shop', [{ name: 'orders' }]);
    const o = orchestrator();
    await o.rebuild();
    await o.rebuildSource('shop');
    expect(await readdir(join(root, 'analytics'))).toEqual(['server.duckdb']);

    const stale = join(root, 'analytics', 'server.duckdb.tmp-4242-deadbeef');
    await writeFile(stale, 'half a database');
    await writeFile(`${stale}.wal`, 'half a log');
    await o.rebuild();

    expect(await readdir(join(root, 'analytics'))).toEqual(['server.duckdb']);
    expect((await published()).generation).toBe(3);
  });

  it('never modifies anything under extracts/', async () => {
    await source('shop', [{ name: 'orders' }, { name: 'issues', rows: 2, shards: 2 }]);
    await mkdir(join(extracts, 'pending'));
    await writeFile(join(extracts, 'shop', 'data', 'orders.parquet.tmp-abc123'), 'leftover');
    const before = await fingerprint(extracts);
    const o = orchestrator();

    await o.rebuild();
    await o.rebuildSource('shop');

    expect(await fingerprint(extracts)).toEqual(before);
  });

  it('makes a second instance wait for the lock file, failing with rebuild_locked after lockWaitMs', async () => {
    await source('shop', [{ name: 'orders' }]);
    const hold = gate('opened');
    const first = orchestrator({ pause: hold.pause });

    const running = first.rebuild();
    await hold.arrived;
    const impatient = orchestrator({ lockWaitMs: 200 }).rebuild();
    await expect(impatient).rejects.toBeInstanceOf(AgnesError);
    await expect(impatient).rejects.toMatchObject({ code: 'rebuild_locked', status: 409 });
    const patient = orchestrator({ lockWaitMs: 20_000 }).rebuild();
    expect(JSON.parse(await readFile(join(root, 'analytics', '.rebuild.lock'), 'utf8'))).toMatchObject({
      pid: process.pid,
    });
    hold.open();

    const [r1, r2] = await Promise.all([running, patient]);
    expect(r1.generation).toBe(1);
    expect(r2.generation).toBe(2);
    expect(await readdir(join(root, 'analytics'))).toEqual(['server.duckdb']);
  });
});

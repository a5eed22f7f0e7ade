import { cp, mkdir, readdir, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuck, queryRows } from '../../../src/core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../../src/core/duckdb/sql.js';
import type { AttachRemote, RemoteAttachRequest } from '../../../src/core/extract/remote-attach.js';
import { ExtractWriter } from '../../../src/core/extract/writer.js';
import { SyncOrchestrator } from '../../../src/core/orchestrator/orchestrator.js';
import { orchestratorStateStore } from '../../../src/core/orchestrator/state-store.js';
import { openStateDb, type StateDb } from '../../../src/core/state/db.js';
import { migrateToLatest } from '../../../src/core/state/migrate.js';
import { FIXED_TIME, makeExtract, tempDir, writeRawExtract } from '../../support/extracts.js';

/** R5 (10-quality-bars.md §2): every kind of corrupt extract at once, beside two good sources. */

let root: string;
let extracts: string;
let db: StateDb;
let cleanup: () => Promise<void>;

beforeEach(async () => {
  const dir = await tempDir('agnes-r5-');
  root = dir.path;
  cleanup = dir.cleanup;
  extracts = join(root, 'extracts');
  await mkdir(extracts);
  db = openStateDb(root);
  await migrateToLatest(db);
});

afterEach(async () => {
  await db.destroy();
  await cleanup();
});

function fileSeam(calls: RemoteAttachRequest[]): AttachRemote {
  return async (conn, request) => {
    calls.push(request);
    await conn.run(`ATTACH ${quoteLiteral(request.url)} AS ${quoteIdent(request.alias)} (READ_ONLY)`);
  };
}

/** A source with local `<name>_local` and remote `<name>_remote` (alias `kbc`, a DuckDB file). */
async function makeHybrid(name: string, remotePath: string, extension: string): Promise<void> {
  const writer = await ExtractWriter.open(join(extracts, name));
  const duck = await openDuck();
  try {
    const file = await writer.writeParquet(
      duck.conn,
      `${name}_local.parquet`,
      'SELECT range AS id FROM range(3)',
    );
    writer.addLocalTable({ name: `${name}_local`, extractedAt: FIXED_TIME, layout: 'single', files: [file] });
    writer.addRemoteAttach({ alias: 'kbc', extension, url: remotePath, token_env: 'KBC_TOKEN' });
    writer.addRemoteTable({
      name: `${name}_remote`,
      rows: 2,
      extractedAt: FIXED_TIME,
      alias: 'kbc',
      select: 'SELECT * FROM kbc.main.events',
    });
    const result = await writer.commit({ attachRemote: fileSeam([]), env: { KBC_TOKEN: 'fixture-token' } });
    expect(result.failed).toEqual([]);
  } finally {
    duck.close();
    await writer.abort();
  }
}

async function garbageExtract(name: string, bytes: Buffer | string): Promise<void> {
  await mkdir(join(extracts, name, 'data'), { recursive: true });
  await writeFile(join(extracts, name, 'extract.duckdb'), bytes);
}

async function halve(path: string): Promise<void> {
  await truncate(path, Math.floor((await stat(path)).size / 2));
}

describe('R5: corrupt extracts', () => {
  it('publishes the good sources and reports every bad one with its reason code', async () => {
    const remote = join(root, 'remote.duckdb');
    const seed = await openDuck(remote);
    await seed.conn.run('CREATE TABLE events AS SELECT range AS id FROM range(2)');
    await seed.conn.run('CHECKPOINT');
    seed.close();

    await makeExtract(extracts, 'a_good', [
      { name: 'alpha', rows: 7 },
      { name: 'alpha_shards', rows: 2, shards: 2 },
    ]);
    await makeExtract(extracts, 'z_good', [{ name: 'zeta', rows: 4 }]);
    await garbageExtract('garbage', Buffer.alloc(128 * 1024, 'Lorem ipsum '));
    await garbageExtract('zero_bytes', '');
    const torn = await makeExtract(extracts, 'torn_duckdb', [{ name: 'torn_table' }]);
    await halve(join(torn, 'extract.duckdb'));
    const badMeta = await makeExtract(extracts, 'bad_meta', [{ name: 'bad_meta_table' }]);
    await writeRawExtract(badMeta, ['ALTER TABLE _meta DROP COLUMN query_mode']);
    const missing = await makeExtract(extracts, 'missing_file', [
      { name: 'kept_table' },
      { name: 'lost_table' },
    ]);
    await rm(join(missing, 'data', 'lost_table.parquet'));
    const tornParquet = await makeExtract(extracts, 'torn_parquet', [
      { name: 'torn_parquet_table', rows: 5000 },
    ]);
    await halve(join(tornParquet, 'data', 'torn_parquet_table.parquet'));
    await makeHybrid('no_token', remote, 'duckdb');
    await makeHybrid('bad_ext', remote, 'httpfs');
    // Valid extracts under names that must never reach SQL (copies: they would publish if attached).
    const valid = await makeExtract(join(root, 'spare'), 'spare', [{ name: 'spare_table' }]);
    for (const name of ['evil; DROP TABLE users--', 'bad-name', 'main'])
      await cp(valid, join(extracts, name), { recursive: true });
    await symlink(valid, join(extracts, 'linked'));
    await mkdir(join(extracts, 'no_extract'));
    const calls: RemoteAttachRequest[] = [];

    const report = await new SyncOrchestrator({
      dataDir: root,
      state: orchestratorStateStore(db),
      env: {},
      attachRemote: fileSeam(calls),
    }).rebuild();

    expect(report.skipped_entries).toEqual([
      { entry: 'bad-name', reason: 'invalid_name' },
      { entry: 'evil; DROP TABLE users--', reason: 'invalid_name' },
      { entry: 'linked', reason: 'symlink' },
      { entry: 'main', reason: 'invalid_name' },
    ]);
    const summary = Object.fromEntries(
      Object.entries(report.sources).map(([name, s]) => [
        name,
        {
          status: s.status,
          reason: s.reason,
          tables: [...s.tables, ...s.remote_tables],
          skipped: s.skipped_tables.filter((t) => t.table !== '*').map((t) => `${t.table}:${t.reason}`),
          remote: s.remote_attach.map((r) => `${r.alias}:${r.status}`),
        },
      ]),
    );
    expect(summary).toEqual({
      a_good: { status: 'ok', reason: null, tables: ['alpha', 'alpha_shards'], skipped: [], remote: [] },
      bad_ext: {
        status: 'partial',
        reason: null,
        tables: ['bad_ext_local'],
        skipped: ['bad_ext_remote:remote_unavailable'],
        remote: ['kbc:extension_not_allowed'],
      },
      bad_meta: { status: 'failed', reason: 'invalid_meta', tables: [], skipped: [], remote: [] },
      garbage: { status: 'failed', reason: 'attach_failed', tables: [], skipped: [], remote: [] },
      missing_file: {
        status: 'partial',
        reason: null,
        tables: ['kept_table'],
        skipped: ['lost_table:bind_failed'],
        remote: [],
      },
      no_extract: { status: 'failed', reason: 'missing_extract', tables: [], skipped: [], remote: [] },
      no_token: {
        status: 'partial',
        reason: null,
        tables: ['no_token_local'],
        skipped: ['no_token_remote:remote_unavailable'],
        remote: ['kbc:token_missing'],
      },
      torn_duckdb: { status: 'failed', reason: 'attach_failed', tables: [], skipped: [], remote: [] },
      torn_parquet: {
        status: 'failed',
        reason: null,
        tables: [],
        skipped: ['torn_parquet_table:bind_failed'],
        remote: [],
      },
      z_good: { status: 'ok', reason: null, tables: ['zeta'], skipped: [], remote: [] },
      zero_bytes: { status: 'failed', reason: 'attach_failed', tables: [], skipped: [], remote: [] },
    });
    expect(calls).toEqual([]);
    expect(JSON.stringify(report)).not.toContain(root);

    // The good tables are published and readable; nothing from a bad name reached SQL.
    const reader = await openDuck(join(root, 'analytics', 'server.duckdb'), { readOnly: true });
    try {
      for (const name of ['a_good', 'z_good', 'missing_file', 'bad_ext', 'no_token']) {
        await reader.conn.run(
          `ATTACH ${quoteLiteral(join(extracts, name, 'extract.duckdb'))} AS ${quoteIdent(name)} (READ_ONLY)`,
        );
      }
      const counts = await queryRows<{
        alpha: bigint;
        alpha_shards: bigint;
        zeta: bigint;
        kept_table: bigint;
      }>(
        reader.conn,
        `SELECT (SELECT count(*) FROM alpha) AS alpha, (SELECT count(*) FROM alpha_shards) AS alpha_shards,
                (SELECT count(*) FROM zeta) AS zeta, (SELECT count(*) FROM kept_table) AS kept_table`,
      );
      expect(counts).toEqual([{ alpha: 7n, alpha_shards: 4n, zeta: 4n, kept_table: 10n }]);
      const views = await queryRows<{ view_name: string }>(
        reader.conn,
        `SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal ORDER BY view_name`,
      );
      expect(views.map((v) => v.view_name)).toEqual([
        'alpha',
        'alpha_shards',
        'bad_ext_local',
        'kept_table',
        'no_token_local',
        'zeta',
      ]);
      const sources = await queryRows<{ source: string }>(
        reader.conn,
        'SELECT DISTINCT source FROM _agnes_views ORDER BY source',
      );
      expect(sources.map((s) => s.source)).toEqual([
        'a_good',
        'bad_ext',
        'missing_file',
        'no_token',
        'z_good',
      ]);
    } finally {
      reader.close();
    }
    expect(
      await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst(),
    ).toEqual({ n: 0 });
    const stateSources = await db
      .selectFrom('sync_state')
      .select('source')
      .distinct()
      .orderBy('source')
      .execute();
    expect(stateSources.map((s) => s.source)).toEqual([
      'a_good',
      'bad_ext',
      'missing_file',
      'no_token',
      'z_good',
    ]);
    expect(await readdir(join(root, 'analytics'))).toEqual(['server.duckdb']);
  });
});

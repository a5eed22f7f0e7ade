import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DuckSession, openDuck, queryRows } from '../../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../../src/core/duckdb/sql.js';
import { validateExtract } from '../../../src/core/extract/validator.js';
import { ExtractWriter, type WrittenFile } from '../../../src/core/extract/writer.js';
import { FIXED_TIME, makeExtract, tempDir } from '../../support/extracts.js';

let root: string;
let cleanup: () => Promise<void>;
let duck: DuckSession;
const open: ExtractWriter[] = [];

beforeEach(async () => {
  const dir = await tempDir('agnes-writer-');
  root = dir.path;
  cleanup = dir.cleanup;
  duck = await openDuck();
});

afterEach(async () => {
  for (const writer of open.splice(0)) await writer.abort();
  duck.close();
  await cleanup();
});

async function openWriter(dir: string, options?: { lockWaitMs?: number }): Promise<ExtractWriter> {
  const writer = await ExtractWriter.open(dir, options);
  open.push(writer);
  return writer;
}

/** Every file under `dir`, relative, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

const select = (rows: number) => `SELECT range AS id, 'v' || range AS label FROM range(${rows})`;

async function readMeta(path: string): Promise<{ table_name: string; rows: bigint }[]> {
  const reader = await openDuck(path, { readOnly: true });
  try {
    return await queryRows(reader.conn, 'SELECT table_name, rows FROM _meta ORDER BY table_name');
  } finally {
    reader.close();
  }
}

describe('ExtractWriter', () => {
  it('publishes atomically: a reader of the old file keeps it, no temp or WAL files remain, the extract validates', async () => {
    const dir = await makeExtract(root, 'shop', [{ name: 'orders', rows: 5 }]);
    const oldReader = await openDuck(join(dir, 'extract.duckdb'), { readOnly: true });
    try {
      const writer = await openWriter(dir);
      const orders = await writer.writeParquet(duck.conn, 'orders.parquet', select(7));
      const shards: WrittenFile[] = [];
      for (const month of ['2024-01', '2024-02']) {
        shards.push(await writer.writeParquet(duck.conn, `issues/${month}.parquet`, select(3)));
      }
      writer.addLocalTable({ name: 'orders', extractedAt: FIXED_TIME, layout: 'single', files: [orders] });
      writer.addLocalTable({ name: 'issues', extractedAt: FIXED_TIME, layout: 'multi', files: shards });

      const result = await writer.commit();

      expect(result).toEqual({ published: ['issues', 'orders'], failed: [] });
      expect(await listFiles(dir)).toEqual([
        'data/issues/2024-01.parquet',
        'data/issues/2024-02.parquet',
        'data/orders.parquet',
        'extract.duckdb',
      ]);
      expect(await validateExtract(dir)).toEqual({ ok: true, errors: [], warnings: [] });
      expect(await queryRows(oldReader.conn, 'SELECT table_name, rows FROM _meta')).toEqual([
        { table_name: 'orders', rows: 5n },
      ]);
      expect(await readMeta(join(dir, 'extract.duckdb'))).toEqual([
        { table_name: 'issues', rows: 6n },
        { table_name: 'orders', rows: 7n },
      ]);
    } finally {
      oldReader.close();
    }
  });

  it('previous() returns the published _meta and _files', async () => {
    const dir = await makeExtract(root, 'shop', [
      { name: 'orders', rows: 4, description: 'All orders' },
      { name: 'issues', rows: 2, shards: 2 },
    ]);
    const writer = await openWriter(dir);

    const previous = await writer.previous();

    expect(previous?.meta).toEqual([
      expect.objectContaining({
        table_name: 'issues',
        rows: 4,
        extracted_at: FIXED_TIME,
        query_mode: 'local',
      }),
      {
        table_name: 'orders',
        description: 'All orders',
        rows: 4,
        size_bytes: (await stat(join(dir, 'data', 'orders.parquet'))).size,
        extracted_at: FIXED_TIME,
        query_mode: 'local',
      },
    ]);
    expect(previous?.files.map((f) => [f.table_name, f.path])).toEqual([
      ['issues', 'issues/part-0.parquet'],
      ['issues', 'issues/part-1.parquet'],
      ['orders', 'orders.parquet'],
    ]);
    for (const file of previous?.files ?? []) {
      const path = join(dir, 'data', file.path);
      expect(file.sha256).toBe(await sha256(path));
      expect(file.size_bytes).toBe((await stat(path)).size);
    }
    expect(previous?.remoteAttach).toEqual([]);
  });

  it('previous() is null when nothing was published yet', async () => {
    const writer = await openWriter(join(root, 'fresh'));

    expect(await writer.previous()).toBeNull();
  });

  it('leaves out a table whose view fails with view_failed and publishes the others', async () => {
    const dir = join(root, 'shop');
    const writer = await openWriter(dir);
    const orders = await writer.writeParquet(duck.conn, 'orders.parquet', select(3));
    const broken = await writer.writeParquet(duck.conn, 'broken.parquet', select(3));
    writer.addLocalTable({ name: 'orders', extractedAt: FIXED_TIME, layout: 'single', files: [orders] });
    writer.addLocalTable({ name: 'broken', extractedAt: FIXED_TIME, layout: 'single', files: [broken] });
    await rm(join(dir, 'data', 'broken.parquet'));

    const result = await writer.commit();

    expect(result.published).toEqual(['orders']);
    expect(result.failed).toEqual([{ table: 'broken', code: 'view_failed', message: expect.any(String) }]);
    expect(await readMeta(join(dir, 'extract.duckdb'))).toEqual([{ table_name: 'orders', rows: 3n }]);
    expect(await validateExtract(dir)).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('deletes files no longer referenced after a commit that drops a table', async () => {
    const dir = await makeExtract(root, 'shop', [
      { name: 'orders', rows: 3 },
      { name: 'issues', rows: 3, shards: 3 },
    ]);
    const ordersHash = await sha256(join(dir, 'data', 'orders.parquet'));
    const writer = await openWriter(dir);
    const previous = await writer.previous();
    const kept = previous!.files.filter((f) => f.table_name === 'orders');
    writer.addLocalTable({
      name: 'orders',
      extractedAt: FIXED_TIME,
      layout: 'single',
      files: kept.map((f) => ({ path: f.path, size: f.size_bytes, sha256: f.sha256, rows: 3 })),
    });

    const result = await writer.commit();

    expect(result).toEqual({ published: ['orders'], failed: [] });
    expect(await listFiles(dir)).toEqual(['data/orders.parquet', 'extract.duckdb']);
    expect(await sha256(join(dir, 'data', 'orders.parquet'))).toBe(ordersHash);
    expect(await validateExtract(dir)).toEqual({ ok: true, errors: [], warnings: [] });
  });

  it('makes a second writer of the same source wait for .write.lock', async () => {
    const dir = join(root, 'shop');
    const first = await openWriter(dir);
    const file = await first.writeParquet(duck.conn, 'orders.parquet', select(2));
    first.addLocalTable({ name: 'orders', extractedAt: FIXED_TIME, layout: 'single', files: [file] });

    await expect(ExtractWriter.open(dir, { lockWaitMs: 150 })).rejects.toMatchObject({
      name: 'LockTimeoutError',
    });
    const waiting = ExtractWriter.open(dir, { lockWaitMs: 10_000 });
    expect(await readdir(dir)).toContain('.write.lock');
    await first.commit();
    const second = await waiting;
    open.push(second);

    expect(await second.previous()).toMatchObject({
      meta: [expect.objectContaining({ table_name: 'orders', rows: 2 })],
    });
    await second.abort();
    expect(await readdir(dir)).not.toContain('.write.lock');
  });

  it('rejects a Parquet file with the wrong row count, leaving no temp file and the previous file unchanged', async () => {
    const dir = await makeExtract(root, 'shop', [{ name: 'orders', rows: 10 }]);
    const path = join(dir, 'data', 'orders.parquet');
    const before = await sha256(path);
    const writer = await openWriter(dir);

    const attempt = writer.writeParquet(duck.conn, 'orders.parquet', select(5), { expectedRows: 6 });

    await expect(attempt).rejects.toThrow(/row count 5 differs from the expected 6/);
    expect(await listFiles(join(dir, 'data'))).toEqual(['orders.parquet']);
    expect(await sha256(path)).toBe(before);
    await expect(
      writer.writeParquet(duck.conn, 'orders.parquet', select(5), { expectedRows: 5 }),
    ).resolves.toMatchObject({ rows: 5 });
  });

  it('writes Parquet with ZSTD compression and row groups of 122,880 rows', async () => {
    const dir = join(root, 'shop');
    const writer = await openWriter(dir);

    const file = await writer.writeParquet(duck.conn, 'big.parquet', select(300_000));

    expect(file.rows).toBe(300_000);
    const path = join(dir, 'data', 'big.parquet');
    const groups = await queryRows<{ row_group_id: bigint; row_group_num_rows: bigint }>(
      duck.conn,
      `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(${quoteLiteral(path)}) ORDER BY row_group_id`,
    );
    expect(groups.map((g) => Number(g.row_group_num_rows))).toEqual([122_880, 122_880, 54_240]);
    const codecs = await queryRows<{ compression: string }>(
      duck.conn,
      `SELECT DISTINCT compression FROM parquet_metadata(${quoteLiteral(path)})`,
    );
    expect(codecs).toEqual([{ compression: 'ZSTD' }]);
    expect(file).toEqual({
      path: 'big.parquet',
      size: (await stat(path)).size,
      sha256: await sha256(path),
      rows: 300_000,
    });
  });
});

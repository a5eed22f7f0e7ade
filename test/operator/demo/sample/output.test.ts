import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, queryRows, toNumber } from '../../../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../../../src/core/duckdb/sql.js';
import { AgnesError } from '../../../../src/core/errors.js';
import {
  type GenerateSampleOptions,
  generateSampleData,
} from '../../../../src/operator/demo/sample/generate.js';
import { SAMPLE_TABLES } from '../../../../src/operator/demo/sample/table-spec.js';
import { makeTempDir } from './sample-fixture.js';

let root: { path: string; cleanup: () => Promise<void> };
let runs = 0;

beforeAll(async () => {
  root = await makeTempDir();
});

afterAll(async () => {
  await root.cleanup();
});

function nextDir(): string {
  runs += 1;
  return join(root.path, `run-${runs}`);
}

async function parquetRows(path: string): Promise<number> {
  const duck = await openDuck();
  try {
    const rows = await queryRows(
      duck.conn,
      `SELECT num_rows FROM parquet_file_metadata(${quoteLiteral(path)})`,
    );
    return toNumber(rows[0]?.num_rows) ?? -1;
  } finally {
    duck.close();
  }
}

describe('generateSampleData output', () => {
  it('writes the size table × scale, the derived tables and a manifest that matches the files', async () => {
    const outDir = nextDir();
    const result = await generateSampleData({
      outDir,
      size: 'xs',
      scale: 0.5,
      seed: 5,
      endDate: '2025-07-01',
    });
    const pkg = JSON.parse(await readFile(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    const { order_items: items, payments } = result.manifest.tables;
    expect(result.manifest).toEqual({
      generator: 'agnes-sample',
      version: pkg.version,
      size: 'xs',
      scale: 0.5,
      seed: 5,
      end_date: '2025-07-01',
      start_date: '2025-04-02',
      tables: {
        customers: 25,
        products: 15,
        campaigns: 5,
        web_sessions: 250,
        web_leads: 25,
        orders: 50,
        order_items: items,
        payments,
        support_tickets: 15,
      },
      total_rows: 25 + 15 + 5 + 250 + 25 + 50 + items + payments + 15,
    });
    expect(items).toBeGreaterThanOrEqual(50);
    expect(items).toBeLessThanOrEqual(8 * 50);
    expect(payments).toBeGreaterThanOrEqual(50);
    expect(payments).toBeLessThanOrEqual(2 * 50);
    expect(result.totalRows).toBe(result.manifest.total_rows);
    expect(result.files).toEqual([
      ...SAMPLE_TABLES.map((table) => join(outDir, `${table}.parquet`)),
      join(outDir, '_manifest.json'),
    ]);
    for (const table of SAMPLE_TABLES) {
      expect(await parquetRows(join(outDir, `${table}.parquet`))).toBe(result.manifest.tables[table]);
    }
    const onDisk = JSON.parse(await readFile(join(outDir, '_manifest.json'), 'utf8')) as unknown;
    expect(onDisk).toEqual(result.manifest);
  });

  it('keeps one row per table at the smallest scale', async () => {
    const result = await generateSampleData({ outDir: nextDir(), size: 'xs', scale: 0.0001, format: 'csv' });
    const { order_items: items, payments, ...base } = result.manifest.tables;
    expect(Object.values(base)).toEqual([1, 1, 1, 1, 1, 1, 1]);
    expect(items).toBe(1);
    expect(payments).toBeGreaterThanOrEqual(1);
  });

  it('leaves no temp files and replaces the other format of an earlier run', async () => {
    const outDir = nextDir();
    await generateSampleData({ outDir, size: 'xs', format: 'csv' });
    await generateSampleData({ outDir, size: 'xs', format: 'parquet' });
    const names = (await readdir(outDir)).sort();
    expect(names).toEqual(['_manifest.json', ...SAMPLE_TABLES.map((table) => `${table}.parquet`)].sort());
  });

  it('writes Parquet in ZSTD row groups of 122,880 rows', async () => {
    const outDir = nextDir();
    // 10,000 × 12.3 = 123,000 sessions: one full row group and a remainder.
    const result = await generateSampleData({ outDir, size: 's', scale: 12.3 });
    expect(result.manifest.tables.web_sessions).toBe(123_000);
    const duck = await openDuck();
    try {
      const groups = await queryRows<{ rows: bigint; compression: string }>(
        duck.conn,
        `SELECT DISTINCT row_group_id, row_group_num_rows AS rows, compression
         FROM parquet_metadata(${quoteLiteral(join(outDir, 'web_sessions.parquet'))}) ORDER BY row_group_id`,
      );
      expect(groups.map((group) => Number(group.rows))).toEqual([122_880, 120]);
      expect(new Set(groups.map((group) => group.compression))).toEqual(new Set(['ZSTD']));
    } finally {
      duck.close();
    }
  });

  it.each<[string, Partial<GenerateSampleOptions>]>([
    ['size', { size: 'xl' as 'xs' }],
    ['scale', { scale: 0 }],
    ['seed', { seed: -1 }],
    ['seed', { seed: 1.5 }],
    ['end date', { endDate: '2026-02-30' }],
    ['format', { format: 'json' as 'csv' }],
  ])('rejects a bad %s', async (_name, options) => {
    const attempt = generateSampleData({ outDir: nextDir(), ...options });
    await expect(attempt).rejects.toBeInstanceOf(AgnesError);
    await expect(attempt).rejects.toMatchObject({ code: 'bad_request' });
  });
});

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, queryRows } from '../../../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../../../src/core/duckdb/sql.js';
import {
  type GenerateSampleOptions,
  generateSampleData,
} from '../../../../src/operator/demo/sample/generate.js';
import { SAMPLE_TABLES } from '../../../../src/operator/demo/sample/table-spec.js';
import { TABLE_SPECS } from '../../../../src/operator/demo/sample/tables/specs.js';
import { hashFiles, makeTempDir } from './sample-fixture.js';

let root: { path: string; cleanup: () => Promise<void> };
let runs = 0;

beforeAll(async () => {
  root = await makeTempDir();
});

afterAll(async () => {
  await root.cleanup();
});

/** Generates into a fresh directory under the test's temp root and returns that directory. */
async function generate(options: Omit<GenerateSampleOptions, 'outDir'>): Promise<string> {
  runs += 1;
  const outDir = join(root.path, `run-${runs}`);
  await generateSampleData({ outDir, size: 'xs', ...options });
  return outDir;
}

describe('determinism', () => {
  it('writes byte-identical Parquet for the same inputs', async () => {
    const first = await hashFiles(await generate({ format: 'parquet' }));
    const second = await hashFiles(await generate({ format: 'parquet' }));
    expect(Object.keys(first)).toEqual(
      ['_manifest.json', ...SAMPLE_TABLES.map((t) => `${t}.parquet`)].sort(),
    );
    expect(second).toEqual(first);
  });

  it('writes byte-identical CSV for the same inputs', async () => {
    const first = await hashFiles(await generate({ format: 'csv', scale: 2 }));
    const second = await hashFiles(await generate({ format: 'csv', scale: 2 }));
    expect(second).toEqual(first);
  });

  it('changes every table with the seed', async () => {
    const base = await hashFiles(await generate({ format: 'parquet' }));
    const reseeded = await hashFiles(await generate({ format: 'parquet', seed: 43 }));
    for (const table of SAMPLE_TABLES) {
      expect(reseeded[`${table}.parquet`]).not.toBe(base[`${table}.parquet`]);
    }
  });

  it('writes the same rows as CSV and as Parquet', async () => {
    const csvDir = await generate({ format: 'csv', seed: 7 });
    const parquetDir = await generate({ format: 'parquet', seed: 7 });
    const duck = await openDuck();
    try {
      for (const spec of TABLE_SPECS) {
        const columns = Object.entries(spec.columns)
          .map(([name, type]) => `${quoteLiteral(name)}: ${quoteLiteral(type)}`)
          .join(', ');
        const csv = `read_csv(${quoteLiteral(join(csvDir, `${spec.name}.csv`))}, columns = {${columns}}, header = true)`;
        const parquet = `read_parquet(${quoteLiteral(join(parquetDir, `${spec.name}.parquet`))})`;
        const diff = await queryRows(
          duck.conn,
          `(SELECT * FROM ${csv} EXCEPT ALL SELECT * FROM ${parquet})
           UNION ALL (SELECT * FROM ${parquet} EXCEPT ALL SELECT * FROM ${csv})`,
        );
        expect(diff).toEqual([]);
      }
    } finally {
      duck.close();
    }
  });
});

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuck } from '../../src/core/duckdb/engine.js';
import { ExtractWriter, type WrittenFile } from '../../src/core/extract/writer.js';

export interface FixtureTable {
  name: string;
  /** Rows of `SELECT range AS id, … FROM range(rows)`; default 10. */
  rows?: number;
  /** Custom SELECT producing the table's data. */
  select?: string;
  /** Number of shards for a multi-file table. */
  shards?: number;
  /** One SELECT per shard of a multi-file table (overrides `select` and `shards`). */
  shardSelects?: string[];
  description?: string;
  extractedAt?: string;
}

export const FIXED_TIME = '2026-04-09T07:00:00.000Z';

/** Writes a contract-valid extract for `source` under `extractsDir` through the real writer. */
export async function makeExtract(
  extractsDir: string,
  source: string,
  tables: FixtureTable[],
): Promise<string> {
  const dir = join(extractsDir, source);
  const writer = await ExtractWriter.open(dir);
  const duck = await openDuck();
  try {
    for (const table of tables) {
      const rows = table.rows ?? 10;
      const select =
        table.select ??
        `SELECT range AS id, 'v' || range AS label, range * 1.5 AS amount FROM range(${rows})`;
      const extractedAt = table.extractedAt ?? FIXED_TIME;
      const shardSelects = table.shardSelects ?? Array.from({ length: table.shards ?? 0 }, () => select);
      if (shardSelects.length > 0) {
        const files: WrittenFile[] = [];
        for (const [i, shardSelect] of shardSelects.entries()) {
          files.push(await writer.writeParquet(duck.conn, `${table.name}/part-${i}.parquet`, shardSelect));
        }
        writer.addLocalTable({
          name: table.name,
          description: table.description ?? null,
          extractedAt,
          layout: 'multi',
          files,
        });
      } else {
        const file = await writer.writeParquet(duck.conn, `${table.name}.parquet`, select);
        writer.addLocalTable({
          name: table.name,
          description: table.description ?? null,
          extractedAt,
          layout: 'single',
          files: [file],
        });
      }
    }
    const result = await writer.commit();
    if (result.failed.length > 0) throw new Error(`fixture failed: ${JSON.stringify(result.failed)}`);
  } finally {
    duck.close();
    await writer.abort();
  }
  return dir;
}

/** Creates `extract.duckdb` by hand (for contract violations the writer refuses to produce). */
export async function writeRawExtract(dir: string, statements: string[]): Promise<void> {
  await mkdir(join(dir, 'data'), { recursive: true });
  const duck = await openDuck(join(dir, 'extract.duckdb'));
  try {
    for (const statement of statements) await duck.conn.run(statement);
    await duck.conn.run('CHECKPOINT');
  } finally {
    duck.close();
  }
}

export async function tempDir(
  prefix = 'agnes-test-',
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

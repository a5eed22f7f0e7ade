import { createHash, randomFillSync } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { openDuck } from '../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../src/core/duckdb/sql.js';
import { PARQUET_COPY_OPTIONS } from '../../src/core/extract/contract.js';
import { ExtractWriter } from '../../src/core/extract/writer.js';
import { FIXED_TIME } from './extracts.js';

const CHUNK = 1024 * 1024;

/**
 * A single-file table of about `bytes` bytes, published through the real ExtractWriter, without
 * generating that much data with DuckDB: a small valid Parquet file gets `bytes` of random padding
 * between its column chunks and its footer. Readers locate the footer from the end of the file and
 * chunks by absolute offsets, so the file stays valid Parquet (10 rows) while being as large as a
 * download test or benchmark needs. The padding is written in 1 MiB chunks and hashed while written.
 */
export async function writePaddedTable(
  extractsDir: string,
  source: string,
  table: string,
  bytes: number,
): Promise<{ size: number; sha256: string }> {
  const writer = await ExtractWriter.open(join(extractsDir, source));
  const duck = await openDuck();
  const small = join(writer.sourceDir, `${table}.seed.parquet`);
  try {
    await duck.conn.run(
      `COPY (SELECT range AS id, 'v' || range AS label FROM range(10)) TO ${quoteLiteral(small)} (${PARQUET_COPY_OPTIONS})`,
    );
    const seed = await readFile(small);
    // Footer: <metadata><4-byte little-endian metadata length>PAR1 at the very end.
    const footerStart = seed.length - 8 - seed.readUInt32LE(seed.length - 8);
    const rel = `${table}.parquet`;
    const hash = createHash('sha256');
    const output = await open(join(writer.dataDir, rel), 'w', 0o640);
    try {
      const write = async (chunk: Buffer) => {
        hash.update(chunk);
        await output.write(chunk);
      };
      await write(seed.subarray(0, footerStart));
      const block = Buffer.alloc(CHUNK);
      for (let left = bytes; left > 0; left -= CHUNK) {
        const part = left >= CHUNK ? block : block.subarray(0, left);
        randomFillSync(part);
        await write(part);
      }
      await write(seed.subarray(footerStart));
      await output.sync();
    } finally {
      await output.close();
    }
    const size = footerStart + bytes + (seed.length - footerStart);
    const sha256 = hash.digest('hex');
    writer.addLocalTable({
      name: table,
      layout: 'single',
      extractedAt: FIXED_TIME,
      files: [{ path: rel, size, sha256, rows: 10 }],
    });
    const result = await writer.commit();
    if (result.failed.length > 0) throw new Error(`padded table failed: ${JSON.stringify(result.failed)}`);
    return { size, sha256 };
  } finally {
    duck.close();
    await rm(small, { force: true });
    await writer.abort();
  }
}

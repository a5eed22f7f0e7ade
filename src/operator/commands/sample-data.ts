import { resolve } from 'node:path';
import { generateSampleData } from '../demo/sample/generate.js';
import type { SampleSize } from '../demo/sample/sizes.js';

export interface SampleDataOptions {
  out: string;
  size: SampleSize;
  scale: number;
  seed: number;
  endDate: string;
  format: 'parquet' | 'csv';
}

/** `agnes generate-sample-data`: the deterministic demo data set (07 §2). */
export async function sampleData(options: SampleDataOptions): Promise<number> {
  const result = await generateSampleData({
    outDir: resolve(options.out),
    size: options.size,
    scale: options.scale,
    seed: options.seed,
    endDate: options.endDate,
    format: options.format,
  });
  const perSecond = Math.round(result.totalRows / Math.max(result.durationMs / 1000, 0.001));
  process.stdout.write(
    `wrote ${result.totalRows} rows in ${result.files.length} files to ${options.out} (${result.durationMs} ms, ${perSecond} rows/s)\n`,
  );
  return 0;
}

import { join } from 'node:path';
import { writeFileAtomic } from '../../../core/fs/atomic.js';
import { PACKAGE_VERSION } from '../../../core/package-info.js';
import type { SampleSize } from './sizes.js';
import type { SampleTable } from './table-spec.js';
import type { PublishedTable } from './write.js';

const MANIFEST_FILE = '_manifest.json';

/** `_manifest.json` (07 §2.1 determinism): everything needed to reproduce the data, and nothing that varies. */
export interface SampleManifest {
  generator: 'agnes-sample';
  /** The package version, part of the determinism contract. */
  version: string;
  size: SampleSize;
  scale: number;
  seed: number;
  end_date: string;
  start_date: string;
  tables: Record<SampleTable, number>;
  total_rows: number;
}

export interface ManifestRun {
  size: SampleSize;
  scale: number;
  seed: number;
  endDate: string;
  startDate: string;
}

export function buildManifest(run: ManifestRun, published: readonly PublishedTable[]): SampleManifest {
  return {
    generator: 'agnes-sample',
    version: PACKAGE_VERSION,
    size: run.size,
    scale: run.scale,
    seed: run.seed,
    end_date: run.endDate,
    start_date: run.startDate,
    tables: Object.fromEntries(published.map(({ table, rows }) => [table, rows])) as Record<
      SampleTable,
      number
    >,
    total_rows: published.reduce((sum, { rows }) => sum + rows, 0),
  };
}

export async function writeManifest(outDir: string, manifest: SampleManifest): Promise<string> {
  const path = join(outDir, MANIFEST_FILE);
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return path;
}

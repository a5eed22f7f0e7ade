import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WrittenFile } from '../../core/extract/writer.js';
import { writeFileAtomic } from '../../core/fs/atomic.js';
import type { CsvOptions } from './convert.js';

/** `extracts/<name>/.inputs.json`: what each input last produced, so unchanged inputs are not converted again. */
export interface InputRecord {
  size: number;
  mtime_ns: string;
  sha256: string;
  output: WrittenFile;
}

export interface Sidecar {
  version: 1;
  inputs: Record<string, InputRecord>;
  /** Table → `extracted_at` of its current data. */
  tables: Record<string, string>;
  /** The CSV options the outputs were converted with; other options make every input new. */
  csv?: CsvOptions;
}

const FILE = '.inputs.json';

export async function readSidecar(extractDir: string): Promise<Sidecar> {
  try {
    const parsed = JSON.parse(await readFile(join(extractDir, FILE), 'utf8')) as Sidecar;
    if (parsed.version === 1 && parsed.inputs && parsed.tables) return parsed;
  } catch {
    // Missing or unreadable: every input is treated as new.
  }
  return { version: 1, inputs: {}, tables: {} };
}

export async function writeSidecar(extractDir: string, sidecar: Sidecar): Promise<void> {
  await writeFileAtomic(join(extractDir, FILE), `${JSON.stringify(sidecar, null, 2)}\n`);
}

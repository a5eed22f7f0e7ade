import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { normaliseTableName } from '../../core/ids.js';
import { shardFileName } from './names.js';

export type InputKind = 'csv' | 'tsv' | 'parquet' | 'json' | 'ndjson';

const EXTENSIONS: readonly [string, InputKind][] = [
  ['.csv.gz', 'csv'],
  ['.csv', 'csv'],
  ['.tsv', 'tsv'],
  ['.parquet', 'parquet'],
  ['.jsonl', 'ndjson'],
  ['.ndjson', 'ndjson'],
  ['.json', 'json'],
];

export interface InputFile {
  /** Path relative to the source directory (`orders.csv`, `events/2024-01.csv`). */
  rel: string;
  abs: string;
  kind: InputKind;
  /** Output path relative to the extract's `data/`. */
  output: string;
}

export interface PlannedTable {
  name: string;
  layout: 'single' | 'multi';
  inputs: InputFile[];
}

export interface InputPlan {
  tables: PlannedTable[];
  /** Tables refused before conversion (name clashes), with the inputs involved. */
  collisions: { name: string; inputs: string[] }[];
}

function classify(fileName: string): { stem: string; kind: InputKind } | null {
  const lower = fileName.toLowerCase();
  for (const [extension, kind] of EXTENSIONS) {
    if (lower.endsWith(extension) && lower.length > extension.length) {
      return { stem: fileName.slice(0, fileName.length - extension.length), kind };
    }
  }
  return null;
}

/** Hidden files, the generator's `_manifest.json` and symlinks are never inputs. */
function ignored(name: string): boolean {
  return name.startsWith('.') || name.startsWith('_');
}

/** Lists a source directory into tables (07 §1 local files); clashing names fail together instead of one winning. */
export async function planInputs(sourceDir: string): Promise<InputPlan> {
  const candidates = new Map<string, PlannedTable[]>();
  // Directories holding two inputs with the same shard name (`a.csv`, `A.csv`): failed, not half-read.
  const shardClashes = new Set<string>();
  const add = (table: PlannedTable) =>
    candidates.set(table.name, [...(candidates.get(table.name) ?? []), table]);

  for (const entry of (await readdir(sourceDir)).sort()) {
    if (ignored(entry)) continue;
    const abs = join(sourceDir, entry);
    const info = await lstat(abs);
    if (info.isSymbolicLink()) continue;
    if (info.isFile()) {
      const kind = classify(entry);
      const name = kind && normaliseTableName(kind.stem);
      if (kind && name)
        add({
          name,
          layout: 'single',
          inputs: [{ rel: entry, abs, kind: kind.kind, output: `${name}.parquet` }],
        });
    } else if (info.isDirectory()) {
      const name = normaliseTableName(entry);
      if (!name) continue;
      const inputs: InputFile[] = [];
      const shards = new Set<string>();
      for (const child of (await readdir(abs)).sort()) {
        if (ignored(child)) continue;
        const childAbs = join(abs, child);
        if (!(await lstat(childAbs)).isFile()) continue;
        const kind = classify(child);
        const shard = kind && shardFileName(kind.stem);
        if (!kind || !shard) continue;
        if (shards.has(shard)) shardClashes.add(name);
        shards.add(shard);
        inputs.push({ rel: `${entry}/${child}`, abs: childAbs, kind: kind.kind, output: `${name}/${shard}` });
      }
      if (inputs.length > 0) add({ name, layout: 'multi', inputs });
    }
  }

  const plan: InputPlan = { tables: [], collisions: [] };
  for (const [name, tables] of [...candidates].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (tables.length === 1 && !shardClashes.has(name)) plan.tables.push(tables[0]!);
    else plan.collisions.push({ name, inputs: tables.flatMap((t) => t.inputs.map((i) => i.rel)) });
  }
  return plan;
}

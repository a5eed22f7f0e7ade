import { readdir, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { FilesRow } from '../extract/contract.js';
import { checkFilesRow } from '../extract/rules.js';
import { isValidShardName } from '../ids.js';
import type { FileRecord } from '../state/schema.js';
import { multiFileHash, sha256File } from '../sync/hashing.js';

export interface TableFiles {
  layout: 'single' | 'multi';
  files: FileRecord[];
  hash: string;
  size: number;
  /** Shard directory relative to DATA_DIR, for multi-file tables. */
  shardDir: string | null;
}

export type FilesOutcome = { ok: true; value: TableFiles } | { ok: false; detail: string };

/** Previously published records by DATA_DIR-relative path, so unchanged files are never hashed twice. */
export type HashCache = ReadonlyMap<string, FileRecord>;

/** The file records of the state store's rows, by path: files whose size and mtime match are not hashed again. */
export function hashCacheOf(states: readonly { files?: readonly FileRecord[] | null }[]): HashCache {
  const cache = new Map<string, FileRecord>();
  for (const state of states) for (const file of state.files ?? []) cache.set(file.path, file);
  return cache;
}

export interface TableFilesInput {
  /** `extracts/<source>/data`, relative to DATA_DIR. */
  relDataDir: string;
  /** Absolute path of the same directory. */
  absDataDir: string;
  table: string;
  /** Rows of `_files` for this extract, or null when the extract has no `_files`. */
  filesRows: readonly FilesRow[] | null;
  /** Absolute files the view reads (from its parse tree). */
  viewFiles: readonly string[];
  cache: HashCache;
}

interface Candidate {
  rel: string;
  expectedSize: number | null;
  sha256: string | null;
}

async function byConvention(absDataDir: string, table: string): Promise<Candidate[]> {
  const single = await stat(join(absDataDir, `${table}.parquet`)).catch(() => null);
  if (single?.isFile()) return [{ rel: `${table}.parquet`, expectedSize: null, sha256: null }];
  const entries = await readdir(join(absDataDir, table), { withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
    .map((e) => ({ rel: `${table}/${e.name}`, expectedSize: null, sha256: null }));
}

/**
 * The file identity records of one local table (02 §1.3, §4): from `_files`, else by convention with
 * the hash cache. Any disagreement between the files, the records and what the view reads is a
 * `file_mismatch`: publishing it would let downloads and the sandbox drift from the view.
 */
export async function collectTableFiles(input: TableFilesInput): Promise<FilesOutcome> {
  let candidates: Candidate[];
  if (input.filesRows) {
    const rows = input.filesRows.filter((r) => r.table_name === input.table);
    for (const row of rows) {
      const problem = checkFilesRow(row);
      if (problem) return { ok: false, detail: `_files: ${problem}` };
    }
    candidates = rows.map((r) => ({ rel: r.path, expectedSize: r.size_bytes, sha256: r.sha256 }));
  } else {
    candidates = await byConvention(input.absDataDir, input.table);
  }
  if (candidates.length === 0) return { ok: false, detail: 'no Parquet files found for the table' };

  const dirs = new Set(candidates.map((c) => posix.dirname(c.rel)));
  const layout = candidates.length === 1 && !candidates[0]!.rel.includes('/') ? 'single' : 'multi';
  if (layout === 'multi') {
    if (dirs.size !== 1 || dirs.has('.'))
      return { ok: false, detail: 'shards must share one directory under data/' };
    const bad = candidates.find((c) => !isValidShardName(posix.basename(c.rel)));
    if (bad) return { ok: false, detail: 'shard name does not match the shard pattern' };
  }

  const files: FileRecord[] = [];
  for (const candidate of candidates.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))) {
    const abs = join(input.absDataDir, candidate.rel);
    const info = await stat(abs, { bigint: true }).catch(() => null);
    if (!info?.isFile()) return { ok: false, detail: `file ${candidate.rel} does not exist` };
    const size = Number(info.size);
    if (candidate.expectedSize !== null && candidate.expectedSize !== size) {
      return {
        ok: false,
        detail: `file ${candidate.rel} is ${size} bytes, _files says ${candidate.expectedSize}`,
      };
    }
    const path = `${input.relDataDir}/${candidate.rel}`;
    const mtimeNs = info.mtimeNs.toString();
    const cached = input.cache.get(path);
    const hash =
      candidate.sha256 ??
      (cached && cached.size === size && cached.mtime_ns === mtimeNs ? cached.hash : await sha256File(abs));
    files.push({ name: posix.basename(candidate.rel), path, size, hash, mtime_ns: mtimeNs });
  }

  const expected = new Set(candidates.map((c) => join(input.absDataDir, c.rel)));
  const read = new Set(input.viewFiles);
  if (expected.size !== read.size || [...read].some((f) => !expected.has(f))) {
    return { ok: false, detail: 'the files the view reads differ from the files recorded for the table' };
  }

  const hash =
    layout === 'single'
      ? files[0]!.hash
      : multiFileHash(files.map((f) => ({ name: f.name, size: f.size, sha256: f.hash })));
  return {
    ok: true,
    value: {
      layout,
      files,
      hash,
      size: files.reduce((sum, f) => sum + f.size, 0),
      shardDir: layout === 'multi' ? `${input.relDataDir}/${[...dirs][0]}` : null,
    },
  };
}

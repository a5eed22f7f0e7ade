import { readdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { collectTableReferences, type ParseNode, parseSelect, viewQuery } from '../duckdb/parse-tree.js';
import { isInside } from './rules.js';

export type ViewInspection =
  | { ok: true; kind: 'local'; files: string[] }
  | { ok: true; kind: 'remote'; aliases: string[] }
  | { ok: false; problem: string };

const PARQUET_READERS = new Set(['read_parquet', 'parquet_scan']);

/**
 * Expands the two path forms writers produce — one file, or `<dir>/*.parquet` — with the file
 * system, not a glob engine, so nothing but those two shapes is ever accepted.
 */
async function expandParquetPath(pattern: string): Promise<string[] | null> {
  if (basename(pattern) === '*.parquet') {
    const dir = dirname(pattern);
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => null);
    if (!entries) return [];
    return entries.filter((e) => e.isFile() && e.name.endsWith('.parquet')).map((e) => join(dir, e.name));
  }
  if (/[*?[\]{}]/.test(pattern)) return null;
  // Existence is the caller's to check (the orchestrator stats every file it records anyway).
  return [pattern];
}

/** Parses several view definitions with one call to DuckDB's parser. */
export async function parseViews(
  conn: DuckDBConnection,
  createViewSqls: readonly string[],
): Promise<(ParseNode[] | null)[]> {
  const queries = createViewSqls.map((sql) => viewQuery(sql));
  const valid = queries.filter((q): q is string => q !== null);
  if (valid.length === 0) return queries.map(() => null);
  const parsed = await parseSelect(conn, valid.map((q) => q.replace(/;\s*$/, '')).join(';\n'));
  if (!parsed.ok || parsed.statements.length !== valid.length) {
    // One bad definition spoils a batch; fall back to one parse per view to find it.
    return Promise.all(
      queries.map(async (q) => {
        if (q === null) return null;
        const single = await parseSelect(conn, q);
        return single.ok && single.statements.length === 1 ? single.statements : null;
      }),
    );
  }
  let next = 0;
  return queries.map((q) => (q === null ? null : [parsed.statements[next++]!]));
}

/**
 * What a local view reads, from DuckDB's parse tree: only `read_parquet` over absolute paths inside
 * the source's `data/` directory (V8). Returns the files the paths expand to, sorted.
 */
export async function inspectLocalView(
  statements: ParseNode[] | null,
  dataDir: string,
): Promise<ViewInspection> {
  if (!statements) return { ok: false, problem: 'view definition cannot be parsed' };
  const refs = collectTableReferences(statements);
  if (refs.baseTables.length > 0)
    return { ok: false, problem: 'local view reads a table instead of Parquet files' };
  const patterns: string[] = [];
  for (const fn of refs.tableFunctions) {
    if (!PARQUET_READERS.has(fn.name.toLowerCase()))
      return { ok: false, problem: `local view uses ${fn.name}; only read_parquet is allowed` };
    const paths = fn.strings.filter((s) => s.includes('/'));
    if (paths.length === 0) return { ok: false, problem: 'read_parquet must name constant file paths' };
    patterns.push(...paths);
  }
  if (patterns.length === 0) return { ok: false, problem: 'local view reads no Parquet files' };
  const files = new Set<string>();
  for (const pattern of patterns) {
    if (
      !pattern.startsWith('/') ||
      resolve(pattern) !== pattern.replace(/\/+$/, '') ||
      !isInside(dataDir, pattern)
    ) {
      return { ok: false, problem: 'view reads files outside the source data/ directory' };
    }
    const matches = await expandParquetPath(pattern);
    if (matches === null) return { ok: false, problem: 'view path must be one file or <dir>/*.parquet' };
    for (const match of matches) files.add(match);
  }
  return { ok: true, kind: 'local', files: [...files].sort() };
}

/** A remote view may read only catalogs declared in `_remote_attach` (V10), and no files. */
export function inspectRemoteView(
  statements: ParseNode[] | null,
  declared: ReadonlyMap<string, string>,
): ViewInspection {
  if (!statements) return { ok: false, problem: 'view definition cannot be parsed' };
  const refs = collectTableReferences(statements);
  const aliases = new Set<string>();
  for (const table of refs.baseTables) {
    if (!declared.has(table.catalog))
      return { ok: false, problem: 'remote view references a catalog not listed in _remote_attach' };
    aliases.add(table.catalog);
  }
  const extensions = new Set(declared.values());
  for (const fn of refs.tableFunctions) {
    const owner = fn.name.split('_')[0] ?? '';
    if (!extensions.has(owner)) return { ok: false, problem: `remote view uses table function ${fn.name}` };
  }
  if (aliases.size === 0 && refs.tableFunctions.length === 0)
    return { ok: false, problem: 'remote view reads no remote catalog' };
  return { ok: true, kind: 'remote', aliases: [...aliases].sort() };
}

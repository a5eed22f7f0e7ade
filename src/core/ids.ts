/** Identifier rules shared by extracts, the orchestrator, the registry and the API (spec README). */

export const SOURCE_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;
export const VIEW_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_]{0,63}$/;
export const TABLE_ID_PATTERN = /^[a-z_][a-z0-9_]{0,63}$/;
export const SHARD_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.=-]{0,127}\.parquet$/;
export const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]{0,127}$/;

/**
 * DuckDB refuses the first three as catalog aliases; `memory` and `server` are the default
 * catalogs of the query sandbox and of the orchestrator's temp file.
 */
export const RESERVED_SOURCE_NAMES: ReadonlySet<string> = new Set([
  'main',
  'system',
  'temp',
  'memory',
  'server',
]);

export function isValidSourceName(name: string): boolean {
  return SOURCE_NAME_PATTERN.test(name) && !RESERVED_SOURCE_NAMES.has(name.toLowerCase());
}

/** A published view name: identifier pattern, never starting with `_` (reserved for internal tables). */
export function isValidViewName(name: string): boolean {
  return VIEW_NAME_PATTERN.test(name) && !name.startsWith('_');
}

export function isValidTableId(id: string): boolean {
  return TABLE_ID_PATTERN.test(id) && !id.startsWith('_');
}

export function tableIdOf(viewName: string): string {
  return viewName.toLowerCase();
}

export function isValidShardName(name: string): boolean {
  return SHARD_NAME_PATTERN.test(name);
}

/**
 * A name from a source (a file stem, a table in a source system) → table id (07 §1 local files): lower-case, runs of other characters become `_`, a leading digit
 * gets a `t_` prefix. Returns null when nothing usable remains.
 */
export function normaliseTableName(stem: string): string | null {
  let name = stem
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (name === '') return null;
  if (/^[0-9]/.test(name)) name = `t_${name}`;
  return name.slice(0, 64).replace(/_+$/, '');
}

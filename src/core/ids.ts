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

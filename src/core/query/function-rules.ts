/**
 * Which functions a query may call (05 §3). Table functions are allow-listed; every other call is
 * checked against a deny-list of functions that read files, reach the network, expose settings or
 * the environment, or run SQL held in a string. Names arrive lower-cased by the caller.
 */

export const ALLOWED_TABLE_FUNCTIONS: ReadonlySet<string> = new Set(['range', 'generate_series', 'unnest']);

export const DENIED_FUNCTION_PREFIXES: readonly string[] = [
  'read_',
  'parquet_',
  'sniff_',
  'duckdb_',
  'pragma_',
  'iceberg_',
  'delta_',
  'sqlite_',
  'postgres_',
  'mysql_',
  'bigquery_',
  'http_',
];

export const DENIED_FUNCTION_NAMES: ReadonlySet<string> = new Set([
  'query',
  'query_table',
  'glob',
  'getenv',
  'current_setting',
  'which_secret',
  'json_execute_serialized_sql',
  'json_deserialize_sql',
  'checkpoint',
  'force_checkpoint',
]);

export function isDeniedFunction(name: string): boolean {
  const lower = name.toLowerCase();
  return DENIED_FUNCTION_NAMES.has(lower) || DENIED_FUNCTION_PREFIXES.some((p) => lower.startsWith(p));
}

export function isAllowedTableFunction(name: string): boolean {
  return ALLOWED_TABLE_FUNCTIONS.has(name.toLowerCase());
}

import { hasControlCharacters, quoteIdent, quoteLiteral } from '../../core/duckdb/sql.js';
import type { StorageTable } from './client.js';

/** Keboola base types → DuckDB (07 §3.2); columns without a base type stay VARCHAR. */
const BASE_TYPES: Record<string, string> = {
  STRING: 'VARCHAR',
  INTEGER: 'BIGINT',
  NUMERIC: 'DECIMAL(38,9)',
  FLOAT: 'DOUBLE',
  BOOLEAN: 'BOOLEAN',
  DATE: 'DATE',
  TIMESTAMP: 'TIMESTAMP',
};

export interface TypedColumn {
  name: string;
  type: string;
}

/** Ids and names from the API reach URLs and SQL only after this check. */
const STORAGE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;

export function isStorageName(name: string): boolean {
  return STORAGE_NAME.test(name);
}

/** The base type a column's metadata declares, `user` provider first (07 §3.1). */
function baseType(table: StorageTable, column: string): string | null {
  const entries = (table.columnMetadata?.[column] ?? []).filter((m) => m.key === 'KBC.datatype.basetype');
  const chosen = entries.find((m) => m.provider === 'user') ?? entries[0];
  return chosen ? (BASE_TYPES[String(chosen.value).toUpperCase()] ?? null) : null;
}

/** The table's columns with their DuckDB types; a column name DuckDB cannot carry fails the table. */
export function typedColumns(table: StorageTable): TypedColumn[] {
  if (!Array.isArray(table.columns) || table.columns.length === 0) throw new Error('table has no columns');
  return table.columns.map((name) => {
    if (typeof name !== 'string' || name === '' || name.length > 255 || hasControlCharacters(name))
      throw new Error('table has a column name that cannot be used');
    return { name, type: baseType(table, name) ?? 'VARCHAR' };
  });
}

const CSV_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * Reads header-less gzipped RFC 4180 slices with a fixed column list, nothing detected. A value a
 * typed column cannot take fails the read with DuckDB's conversion error, naming the column.
 */
export function readSlicesSql(paths: readonly string[], columns: readonly TypedColumn[]): string {
  const files = `[${paths.map(quoteLiteral).join(', ')}]`;
  const struct = `{${columns.map((c) => `${quoteLiteral(c.name)}: ${quoteLiteral(c.type)}`).join(', ')}}`;
  return (
    `SELECT * FROM read_csv(${files}, header = false, auto_detect = false, delim = ',', quote = '"', ` +
    `escape = '"', compression = 'gzip', columns = ${struct}, buffer_size = ${CSV_BUFFER_BYTES})`
  );
}

/** The column a DuckDB conversion error names, if it is one of ours. */
export function failedColumn(message: string, columns: readonly TypedColumn[]): TypedColumn | null {
  const match = /Error when converting column "((?:[^"]|"")*)"/.exec(message);
  const name = match?.[1]?.replaceAll('""', '"');
  return columns.find((c) => c.name === name && c.type !== 'VARCHAR') ?? null;
}

export const columnList = (columns: readonly TypedColumn[]) =>
  columns.map((c) => quoteIdent(c.name)).join(', ');

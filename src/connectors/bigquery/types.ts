import { quoteIdent } from '../../core/duckdb/sql.js';
import type { BigQueryField } from './client.js';

/**
 * BigQuery column types as DuckDB names them when the extension reads the table; both the legacy
 * (`INTEGER`, `RECORD`) and the standard SQL spellings (`INT64`, `STRUCT`) occur in schemas.
 * BIGNUMERIC has more digits than a DuckDB DECIMAL holds, so it is text.
 */
const SCALAR: Record<string, string> = {
  STRING: 'VARCHAR',
  BYTES: 'BLOB',
  INTEGER: 'BIGINT',
  INT64: 'BIGINT',
  FLOAT: 'DOUBLE',
  FLOAT64: 'DOUBLE',
  NUMERIC: 'DECIMAL(38,9)',
  BIGNUMERIC: 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
  BOOL: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP WITH TIME ZONE',
  DATETIME: 'TIMESTAMP',
  DATE: 'DATE',
  TIME: 'TIME',
  GEOGRAPHY: 'VARCHAR',
  JSON: 'JSON',
  INTERVAL: 'INTERVAL',
};

export function duckType(field: BigQueryField): string {
  const type = field.type.toUpperCase();
  const base =
    type === 'RECORD' || type === 'STRUCT'
      ? `STRUCT(${(field.fields ?? []).map((f) => `${quoteIdent(f.name)} ${duckType(f)}`).join(', ')})`
      : (SCALAR[type] ?? 'VARCHAR');
  return field.mode?.toUpperCase() === 'REPEATED' ? `${base}[]` : base;
}

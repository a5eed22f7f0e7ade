import { quoteLiteral } from '../../core/duckdb/sql.js';
import type { InputKind } from './inputs.js';

export interface CsvOptions {
  delimiter?: string;
  header: boolean;
  encoding: string;
}

const ENCODINGS: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'utf-16': 'utf-16',
  utf16: 'utf-16',
  'latin-1': 'latin-1',
  latin1: 'latin-1',
  'iso-8859-1': 'latin-1',
};

export function duckEncoding(encoding: string): string {
  const known = ENCODINGS[encoding.toLowerCase()];
  if (!known) throw new Error(`unsupported encoding ${encoding}; use utf-8, utf-16 or latin-1`);
  return known;
}

/**
 * The SELECT that reads one input with DuckDB. CSV type detection looks at the whole file
 * (`sample_size = -1`) so a late odd value cannot break a column typed from the first rows.
 */
export function readInputSql(path: string, kind: Exclude<InputKind, 'parquet'>, csv: CsvOptions): string {
  const file = quoteLiteral(path);
  if (kind === 'json') return `SELECT * FROM read_json(${file}, format = 'auto')`;
  if (kind === 'ndjson') return `SELECT * FROM read_json(${file}, format = 'newline_delimited')`;
  const delimiter = kind === 'tsv' ? '\t' : csv.delimiter;
  const options = [
    'auto_detect = true',
    'sample_size = -1',
    `header = ${csv.header ? 'true' : 'false'}`,
    `encoding = ${quoteLiteral(duckEncoding(csv.encoding))}`,
  ];
  // DuckDB reads the two characters `\t` in this option as a tab.
  if (delimiter) options.push(`delim = ${delimiter === '\t' ? "'\\t'" : quoteLiteral(delimiter)}`);
  return `SELECT * FROM read_csv(${file}, ${options.join(', ')})`;
}

import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
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

const CSV_BUFFER_BYTES = 4 * 1024 * 1024;

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
    // 4 MiB read buffers instead of DuckDB's 32 MB, so a bounded conversion fits its memory limit.
    `buffer_size = ${CSV_BUFFER_BYTES}`,
  ];
  // DuckDB reads the two characters `\t` in this option as a tab.
  if (delimiter) options.push(`delim = ${delimiter === '\t' ? "'\\t'" : quoteLiteral(delimiter)}`);
  return `SELECT * FROM read_csv(${file}, ${options.join(', ')})`;
}

/**
 * DuckDB reads a truncated `.gz` input as the rows before the cut, without an error; decompressing
 * it once here (streamed) makes a damaged file fail its table instead of publishing part of it.
 */
export async function verifyGzip(path: string): Promise<void> {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  await pipeline(createReadStream(path), createGunzip(), discard).catch((error: unknown) => {
    throw new Error(`damaged gzip input: ${error instanceof Error ? error.message : String(error)}`);
  });
}

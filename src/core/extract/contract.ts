/** The extract contract (02-data-contracts.md §1): what every connector writes, in types. */

export const EXTRACT_FILE = 'extract.duckdb';
export const DATA_DIR_NAME = 'data';
export const WRITE_LOCK_FILE = '.write.lock';

export const PARQUET_COPY_OPTIONS = 'FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880';

export type QueryMode = 'local' | 'remote';

export interface MetaRow {
  table_name: string;
  description: string | null;
  rows: number | null;
  size_bytes: number | null;
  /** ISO 8601 UTC. */
  extracted_at: string | null;
  query_mode: string;
}

export interface RemoteAttachRow {
  alias: string;
  extension: string;
  url: string;
  token_env: string | null;
}

export interface FilesRow {
  table_name: string;
  /** Relative to the source's `data/` directory. */
  path: string;
  size_bytes: number;
  sha256: string;
}

/** Column name and the DuckDB type family accepted for it (V3, V9, V11). */
export interface ColumnRule {
  name: string;
  accepts: (type: string) => boolean;
  label: string;
}

const isVarchar = (type: string) => type === 'VARCHAR';
const isInteger = (type: string) =>
  /^(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT|UBIGINT|UINTEGER|USMALLINT|UTINYINT)$/.test(type);
const isTimestamp = (type: string) => /^TIMESTAMP( WITH TIME ZONE|_S|_MS|_NS)?$/.test(type);

export const META_COLUMNS: readonly ColumnRule[] = [
  { name: 'table_name', accepts: isVarchar, label: 'VARCHAR' },
  { name: 'description', accepts: isVarchar, label: 'VARCHAR' },
  { name: 'rows', accepts: isInteger, label: 'BIGINT' },
  { name: 'size_bytes', accepts: isInteger, label: 'BIGINT' },
  { name: 'extracted_at', accepts: isTimestamp, label: 'TIMESTAMP' },
  { name: 'query_mode', accepts: isVarchar, label: 'VARCHAR' },
];

export const REMOTE_ATTACH_COLUMNS: readonly ColumnRule[] = [
  { name: 'alias', accepts: isVarchar, label: 'VARCHAR' },
  { name: 'extension', accepts: isVarchar, label: 'VARCHAR' },
  { name: 'url', accepts: isVarchar, label: 'VARCHAR' },
  { name: 'token_env', accepts: isVarchar, label: 'VARCHAR' },
];

export const FILES_COLUMNS: readonly ColumnRule[] = [
  { name: 'table_name', accepts: isVarchar, label: 'VARCHAR' },
  { name: 'path', accepts: isVarchar, label: 'VARCHAR' },
  { name: 'size_bytes', accepts: isInteger, label: 'BIGINT' },
  { name: 'sha256', accepts: isVarchar, label: 'VARCHAR' },
];

export const INTERNAL_TABLES: ReadonlySet<string> = new Set(['_meta', '_remote_attach', '_files']);

/** The DDL a writer uses; the same column order the rules above check. */
export const CONTRACT_DDL = {
  meta: 'CREATE TABLE _meta (table_name VARCHAR NOT NULL, description VARCHAR, rows BIGINT, size_bytes BIGINT, extracted_at TIMESTAMP, query_mode VARCHAR)',
  files:
    'CREATE TABLE _files (table_name VARCHAR NOT NULL, path VARCHAR NOT NULL, size_bytes BIGINT NOT NULL, sha256 VARCHAR NOT NULL)',
  remoteAttach:
    'CREATE TABLE _remote_attach (alias VARCHAR, extension VARCHAR, url VARCHAR, token_env VARCHAR)',
} as const;

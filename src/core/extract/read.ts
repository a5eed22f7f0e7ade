import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, toNumber } from '../duckdb/engine.js';
import { quoteIdent } from '../duckdb/sql.js';
import { normaliseTimestamp } from '../time.js';
import {
  FILES_COLUMNS,
  type FilesRow,
  INTERNAL_TABLES,
  META_COLUMNS,
  type MetaRow,
  REMOTE_ATTACH_COLUMNS,
  type RemoteAttachRow,
} from './contract.js';
import { checkColumns } from './rules.js';

export interface Column {
  name: string;
  type: string;
}

/** Everything the contract cares about in one attached `extract.duckdb`. */
export interface ExtractContents {
  /** Null when `_meta` is missing; otherwise a column problem or null when the columns are right. */
  metaProblem: string | null;
  meta: MetaRow[];
  hasRemoteAttach: boolean;
  remoteAttachProblem: string | null;
  remoteAttach: RemoteAttachRow[];
  hasFiles: boolean;
  filesProblem: string | null;
  files: FilesRow[];
  /** View name → `CREATE VIEW` text, for views in the `main` schema. */
  views: Map<string, string>;
  /** Base tables in `main` other than the contract's own. */
  baseTables: string[];
  /** Objects outside `main` (reported as warnings by the validator). */
  otherObjects: string[];
}

/** DESCRIBE, not duckdb_columns(): the latter enumerates every column of every attached catalog. */
async function columnsOf(conn: DuckDBConnection, catalog: string, table: string): Promise<Column[]> {
  const rows = await queryRows<{ column_name: string; column_type: string }>(
    conn,
    `DESCRIBE ${quoteIdent(catalog)}.main.${quoteIdent(table)}`,
  );
  return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
}

/**
 * Reads the contract tables of an extract attached as `catalog`. `catalog` must already be a
 * validated identifier: it is quoted, but it is also how the caller named the ATTACH.
 */
export async function readAttachedExtract(conn: DuckDBConnection, catalog: string): Promise<ExtractContents> {
  const q = quoteIdent(catalog);
  const tables = await queryRows<{ schema_name: string; table_name: string }>(
    conn,
    'SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = $1',
    [catalog],
  );
  const viewRows = await queryRows<{ schema_name: string; view_name: string; sql: string }>(
    conn,
    'SELECT schema_name, view_name, sql FROM duckdb_views() WHERE database_name = $1 AND NOT internal',
    [catalog],
  );
  const mainTables = new Set(tables.filter((t) => t.schema_name === 'main').map((t) => t.table_name));
  const contents: ExtractContents = {
    metaProblem: 'missing _meta table',
    meta: [],
    hasRemoteAttach: mainTables.has('_remote_attach'),
    remoteAttachProblem: null,
    remoteAttach: [],
    hasFiles: mainTables.has('_files'),
    filesProblem: null,
    files: [],
    views: new Map(viewRows.filter((v) => v.schema_name === 'main').map((v) => [v.view_name, v.sql])),
    baseTables: [...mainTables].filter((t) => !INTERNAL_TABLES.has(t)),
    otherObjects: [
      ...tables.filter((t) => t.schema_name !== 'main').map((t) => `${t.schema_name}.${t.table_name}`),
      ...viewRows.filter((v) => v.schema_name !== 'main').map((v) => `${v.schema_name}.${v.view_name}`),
    ],
  };

  if (mainTables.has('_meta')) {
    contents.metaProblem = checkColumns('_meta', await columnsOf(conn, catalog, '_meta'), META_COLUMNS);
    if (!contents.metaProblem) {
      const rows = await queryRows(
        conn,
        `SELECT table_name, description, rows::BIGINT AS rows, size_bytes::BIGINT AS size_bytes,
                extracted_at, query_mode FROM ${q}.main._meta`,
      );
      contents.meta = rows.map((r) => ({
        table_name: String(r.table_name),
        description: r.description === null ? null : String(r.description),
        rows: toNumber(r.rows),
        size_bytes: toNumber(r.size_bytes),
        extracted_at: normaliseTimestamp(r.extracted_at),
        query_mode: r.query_mode === null ? '' : String(r.query_mode),
      }));
    }
  }
  if (contents.hasRemoteAttach) {
    contents.remoteAttachProblem = checkColumns(
      '_remote_attach',
      await columnsOf(conn, catalog, '_remote_attach'),
      REMOTE_ATTACH_COLUMNS,
    );
    if (!contents.remoteAttachProblem) {
      contents.remoteAttach = await queryRows<RemoteAttachRow & Record<string, unknown>>(
        conn,
        `SELECT alias, extension, url, token_env FROM ${q}.main._remote_attach`,
      );
    }
  }
  if (contents.hasFiles) {
    contents.filesProblem = checkColumns('_files', await columnsOf(conn, catalog, '_files'), FILES_COLUMNS);
    if (!contents.filesProblem) {
      const rows = await queryRows(
        conn,
        `SELECT table_name, path, size_bytes::BIGINT AS size_bytes, sha256 FROM ${q}.main._files ORDER BY table_name, path`,
      );
      contents.files = rows.map((r) => ({
        table_name: String(r.table_name),
        path: String(r.path),
        size_bytes: toNumber(r.size_bytes) ?? -1,
        sha256: String(r.sha256),
      }));
    }
  }
  return contents;
}

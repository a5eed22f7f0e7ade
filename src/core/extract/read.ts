import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, type Row, toNumber } from '../duckdb/engine.js';
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

/**
 * Reads a whole contract table with one query and takes its columns from the result itself:
 * cheaper than DESCRIBE plus SELECT, and duckdb_columns() would bind every view of the catalog.
 */
async function readTable(
  conn: DuckDBConnection,
  catalog: string,
  table: string,
): Promise<{ columns: Column[]; rows: Row[] }> {
  const reader = await conn.runAndReadAll(`SELECT * FROM ${quoteIdent(catalog)}.main.${quoteIdent(table)}`);
  const names = reader.columnNames();
  const types = reader.columnTypes().map((t) => t.toString());
  return {
    columns: names.map((name, i) => ({ name, type: types[i] ?? '' })),
    rows: reader.getRowObjectsJS() as Row[],
  };
}

/**
 * Reads the contract tables of an extract attached as `catalog`. `catalog` must already be a
 * validated identifier: it is quoted, but it is also how the caller named the ATTACH.
 */
export async function readAttachedExtract(conn: DuckDBConnection, catalog: string): Promise<ExtractContents> {
  const objects = await queryRows<{ kind: string; schema_name: string; name: string; sql: string | null }>(
    conn,
    `SELECT 'table' AS kind, schema_name, table_name AS name, NULL AS sql FROM duckdb_tables() WHERE database_name = $1
     UNION ALL
     SELECT 'view', schema_name, view_name, sql FROM duckdb_views() WHERE database_name = $1 AND NOT internal`,
    [catalog],
  );
  const tables = objects.filter((o) => o.kind === 'table');
  const viewRows = objects.filter((o) => o.kind === 'view');
  const mainTables = new Set(tables.filter((t) => t.schema_name === 'main').map((t) => t.name));
  const contents: ExtractContents = {
    metaProblem: 'missing _meta table',
    meta: [],
    hasRemoteAttach: mainTables.has('_remote_attach'),
    remoteAttachProblem: null,
    remoteAttach: [],
    hasFiles: mainTables.has('_files'),
    filesProblem: null,
    files: [],
    views: new Map(viewRows.filter((v) => v.schema_name === 'main').map((v) => [v.name, v.sql ?? ''])),
    baseTables: [...mainTables].filter((t) => !INTERNAL_TABLES.has(t)),
    otherObjects: [...tables, ...viewRows]
      .filter((o) => o.schema_name !== 'main')
      .map((o) => `${o.schema_name}.${o.name}`),
  };

  if (mainTables.has('_meta')) {
    const meta = await readTable(conn, catalog, '_meta');
    contents.metaProblem = checkColumns('_meta', meta.columns, META_COLUMNS);
    if (!contents.metaProblem) {
      contents.meta = meta.rows.map((r) => ({
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
    const remote = await readTable(conn, catalog, '_remote_attach');
    contents.remoteAttachProblem = checkColumns('_remote_attach', remote.columns, REMOTE_ATTACH_COLUMNS);
    if (!contents.remoteAttachProblem) contents.remoteAttach = remote.rows as unknown as RemoteAttachRow[];
  }
  if (contents.hasFiles) {
    const files = await readTable(conn, catalog, '_files');
    contents.filesProblem = checkColumns('_files', files.columns, FILES_COLUMNS);
    if (!contents.filesProblem) {
      contents.files = files.rows
        .map((r) => ({
          table_name: String(r.table_name),
          path: String(r.path),
          size_bytes: toNumber(r.size_bytes) ?? -1,
          sha256: String(r.sha256),
        }))
        .sort((a, b) =>
          a.table_name === b.table_name ? (a.path < b.path ? -1 : 1) : a.table_name < b.table_name ? -1 : 1,
        );
    }
  }
  return contents;
}

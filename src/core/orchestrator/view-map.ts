import type { DuckDBConnection, DuckDBValue } from '@duckdb/node-api';
import { queryRows, toNumber } from '../duckdb/engine.js';
import { quoteIdent } from '../duckdb/sql.js';
import type { FileRecord, Layout, QueryMode } from '../state/schema.js';
import { normaliseTimestamp } from '../time.js';
import type { Collision, RebuildReport } from './report.js';

/** `_agnes_views` and `_agnes_build` (02 §3 analytics database): published in the same file as the views they describe. */

export interface ViewMapRow {
  view_name: string;
  table_id: string;
  source: string;
  query_mode: QueryMode;
  layout: Layout;
  files: FileRecord[];
  /** Shard directory relative to DATA_DIR (multi-file tables). */
  data_dir: string | null;
  remote_alias: string | null;
  rows: number | null;
  size_bytes: number | null;
  extracted_at: string | null;
  hash: string | null;
  description: string | null;
}

export interface RemoteAttachRecord {
  source: string;
  alias: string;
  extension: string;
  url: string;
  token_env: string;
}

export interface BuildInfo {
  generation: number;
  built_at: string;
  mode: 'full' | 'source';
  report: RebuildReport | null;
  remote_attach: RemoteAttachRecord[];
  collisions: Collision[];
}

const VIEWS_DDL = `CREATE TABLE _agnes_views (view_name VARCHAR, table_id VARCHAR, source VARCHAR, query_mode VARCHAR,
  layout VARCHAR, files JSON, data_dir VARCHAR, remote_alias VARCHAR, rows BIGINT, size_bytes BIGINT,
  extracted_at TIMESTAMP, hash VARCHAR, description VARCHAR)`;
const BUILD_DDL =
  'CREATE TABLE _agnes_build (generation BIGINT, built_at TIMESTAMP, mode VARCHAR, report JSON, remote_attach JSON, collisions JSON)';

const timestampText = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/Z$/, '') : null);

export async function createViewMapTables(conn: DuckDBConnection): Promise<void> {
  await conn.run(VIEWS_DDL);
  await conn.run(BUILD_DDL);
}

export async function insertViewMapRows(conn: DuckDBConnection, rows: readonly ViewMapRow[]): Promise<void> {
  const columns = 13;
  for (let start = 0; start < rows.length; start += 100) {
    const chunk = rows.slice(start, start + 100);
    const placeholders = chunk
      .map((_, i) => {
        const base = i * columns;
        const p = (n: number) => `$${base + n}`;
        return `(${p(1)}, ${p(2)}, ${p(3)}, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, CAST(${p(11)} AS TIMESTAMP), ${p(12)}, ${p(13)})`;
      })
      .join(', ');
    const values: DuckDBValue[] = chunk.flatMap((r) => [
      r.view_name,
      r.table_id,
      r.source,
      r.query_mode,
      r.layout,
      JSON.stringify(r.files),
      r.data_dir,
      r.remote_alias,
      r.rows,
      r.size_bytes,
      timestampText(r.extracted_at),
      r.hash,
      r.description,
    ]);
    await conn.run(`INSERT INTO _agnes_views VALUES ${placeholders}`, values);
  }
}

export async function writeBuildInfo(conn: DuckDBConnection, info: BuildInfo): Promise<void> {
  await conn.run('DELETE FROM _agnes_build');
  await conn.run('INSERT INTO _agnes_build VALUES ($1, CAST($2 AS TIMESTAMP), $3, $4, $5, $6)', [
    info.generation,
    timestampText(info.built_at),
    info.mode,
    JSON.stringify(info.report),
    JSON.stringify(info.remote_attach),
    JSON.stringify(info.collisions),
  ]);
}

const parseJson = <T>(value: unknown, fallback: T): T =>
  typeof value === 'string' ? (JSON.parse(value) as T) : fallback;

/** Reads the view map of a published analytics file attached (or opened) under `catalog`. */
export async function readViewMap(conn: DuckDBConnection, catalog: string): Promise<ViewMapRow[]> {
  const rows = await queryRows(
    conn,
    `SELECT * FROM ${quoteIdent(catalog)}.main._agnes_views ORDER BY view_name`,
  );
  return rows.map((r) => ({
    view_name: String(r.view_name),
    table_id: String(r.table_id),
    source: String(r.source),
    query_mode: String(r.query_mode) as QueryMode,
    layout: String(r.layout) as Layout,
    files: parseJson<FileRecord[]>(r.files, []),
    data_dir: r.data_dir === null ? null : String(r.data_dir),
    remote_alias: r.remote_alias === null ? null : String(r.remote_alias),
    rows: toNumber(r.rows),
    size_bytes: toNumber(r.size_bytes),
    extracted_at: normaliseTimestamp(r.extracted_at),
    hash: r.hash === null ? null : String(r.hash),
    description: r.description === null ? null : String(r.description),
  }));
}

/** Which source owns which view name: all a source rebuild needs of the other sources' rows. */
export async function readViewOwners(
  conn: DuckDBConnection,
  catalog: string,
): Promise<{ view_name: string; table_id: string; source: string }[]> {
  return queryRows(conn, `SELECT view_name, table_id, source FROM ${quoteIdent(catalog)}.main._agnes_views`);
}

export async function readBuildInfo(conn: DuckDBConnection, catalog: string): Promise<BuildInfo | null> {
  const rows = await queryRows(conn, `SELECT * FROM ${quoteIdent(catalog)}.main._agnes_build`);
  const r = rows[0];
  if (!r) return null;
  return {
    generation: toNumber(r.generation) ?? 0,
    built_at: normaliseTimestamp(r.built_at) ?? new Date(0).toISOString(),
    mode: String(r.mode) as 'full' | 'source',
    report: parseJson<RebuildReport | null>(r.report, null),
    remote_attach: parseJson<RemoteAttachRecord[]>(r.remote_attach, []),
    collisions: parseJson<Collision[]>(r.collisions, []),
  };
}

import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryOne, queryRows, toNumber } from '../../core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../core/duckdb/sql.js';
import { errorMessage } from '../../core/errors.js';
import type { FilesRow } from '../../core/extract/contract.js';
import type { ExtractWriter, LocalTable, WrittenFile } from '../../core/extract/writer.js';
import { failedColumn, readSlicesSql, type TypedColumn } from './columns.js';

/** One table's export on disk, ready to convert. */
export interface Export {
  id: string;
  slices: string[];
  columns: TypedColumn[];
  primaryKey: string[];
  /** Scratch directory for staging files. */
  scratch: string;
  /** Tells the operator a column fell back to VARCHAR. */
  warn(line: string): void;
}

const ORDER = '__agnes_order';
const PERIOD = '__agnes_period';
const PERIOD_FORMATS = { year: '%Y', month: '%Y-%m', day: '%Y-%m-%d' } as const;
export type Granularity = keyof typeof PERIOD_FORMATS;
const PERIOD_NAME = /^(\d{4}(-\d{2}(-\d{2})?)?|null)$/;

/** The new rows as SQL; an export without slices is an empty table of the same columns. */
function incomingSql(exported: Export, columns: readonly TypedColumn[]): string {
  if (exported.slices.length > 0) return readSlicesSql(exported.slices, columns);
  const nulls = columns.map((c) => `CAST(NULL AS ${c.type}) AS ${quoteIdent(c.name)}`).join(', ');
  return `SELECT ${nulls} WHERE false`;
}

/**
 * Runs `step` with the typed columns; when DuckDB cannot convert a non-empty value of a column,
 * that column becomes VARCHAR and the step runs again (07 §3.2 conversion and types), so no value silently turns NULL.
 */
async function withTypeFallback<T>(exported: Export, step: (sql: string) => Promise<T>): Promise<T> {
  let columns = exported.columns;
  for (;;) {
    try {
      return await step(incomingSql(exported, columns));
    } catch (error) {
      const column = failedColumn(errorMessage(error), columns);
      if (!column) throw error;
      exported.warn(`column ${column.name} has values that are not ${column.type}; kept as VARCHAR`);
      columns = columns.map((c) => (c === column ? { name: c.name, type: 'VARCHAR' } : c));
    }
  }
}

/** Full refresh of a single-file table: the export becomes `data/<id>.parquet`. */
export function writeFull(
  conn: DuckDBConnection,
  writer: ExtractWriter,
  exported: Export,
): Promise<WrittenFile> {
  return withTypeFallback(exported, (sql) => writer.writeParquet(conn, `${exported.id}.parquet`, sql));
}

const keyMatch = (keys: readonly string[], left: string, right: string) =>
  keys.map((k) => `${left}.${quoteIdent(k)} IS NOT DISTINCT FROM ${right}.${quoteIdent(k)}`).join(' AND ');

/**
 * Loads the changed rows into `incoming`, one row per primary key (the last one of the export
 * wins), with its period when the table is partitioned.
 */
async function stageIncoming(
  conn: DuckDBConnection,
  exported: Export,
  period: { column: string; granularity: Granularity } | null,
): Promise<number> {
  const keys = exported.primaryKey.map(quoteIdent).join(', ');
  const periodValue = period ? periodSql(period.column, period.granularity) : 'CAST(NULL AS VARCHAR)';
  await withTypeFallback(exported, (sql) =>
    conn.run(
      `CREATE OR REPLACE TEMP TABLE incoming AS SELECT * EXCLUDE (${ORDER}), ${periodValue} AS ${PERIOD} FROM ` +
        `(SELECT *, row_number() OVER () AS ${ORDER} FROM (${sql})) ` +
        `QUALIFY row_number() OVER (PARTITION BY ${keys} ORDER BY ${ORDER} DESC) = 1`,
    ),
  );
  const row = await queryOne(conn, 'SELECT count(*) AS n FROM incoming');
  return toNumber(row?.n) ?? 0;
}

/** `old` without the rows `incoming` replaces, plus `filter`ed incoming rows, and the count to expect. */
async function merged(
  conn: DuckDBConnection,
  exported: Export,
  oldSql: string | null,
  incomingFilter: string,
): Promise<{ sql: string; expected: number }> {
  const match = keyMatch(exported.primaryKey, 'n', 'o');
  const fresh = `SELECT * EXCLUDE (${PERIOD}) FROM incoming n WHERE ${incomingFilter}`;
  const freshRows = toNumber((await queryOne(conn, `SELECT count(*) AS n FROM (${fresh})`))?.n) ?? 0;
  if (oldSql === null) return { sql: fresh, expected: freshRows };
  const kept = `SELECT * FROM (${oldSql}) o WHERE NOT EXISTS (SELECT 1 FROM incoming n WHERE ${match})`;
  const keptRows = toNumber((await queryOne(conn, `SELECT count(*) AS n FROM (${kept})`))?.n) ?? 0;
  return { sql: `${kept} UNION ALL BY NAME ${fresh}`, expected: keptRows + freshRows };
}

/**
 * Incremental single-file table (07 §3.3 strategies): new rows replace old ones with the same key; the result
 * must hold `old − replaced + new distinct` rows or nothing is published.
 */
export async function mergeSingle(
  conn: DuckDBConnection,
  writer: ExtractWriter,
  exported: Export,
): Promise<WrittenFile> {
  await stageIncoming(conn, exported, null);
  const current = join(writer.dataDir, `${exported.id}.parquet`);
  const { sql, expected } = await merged(
    conn,
    exported,
    `SELECT * FROM read_parquet(${quoteLiteral(current)})`,
    'true',
  );
  return writer.writeParquet(conn, `${exported.id}.parquet`, sql, { expectedRows: expected });
}

export function periodSql(column: string, granularity: Granularity): string {
  return `coalesce(strftime(TRY_CAST(${quoteIdent(column)} AS TIMESTAMP), ${quoteLiteral(PERIOD_FORMATS[granularity])}), 'null')`;
}

function shardPath(id: string, period: string): string {
  if (!PERIOD_NAME.test(period)) throw new Error('partition value is not a period');
  return `${id}/${period}.parquet`;
}

/**
 * Partitioned table, full refresh: the export is staged once as Parquet, then every period is
 * written as its own shard; periods that vanished are simply not listed (the writer deletes them).
 */
export async function writePartitions(
  conn: DuckDBConnection,
  writer: ExtractWriter,
  exported: Export,
  column: string,
  granularity: Granularity,
): Promise<LocalTable['files']> {
  const stage = join(exported.scratch, `${exported.id}.stage.parquet`);
  await withTypeFallback(exported, (sql) =>
    conn.run(
      `COPY (SELECT *, ${periodSql(column, granularity)} AS ${PERIOD} FROM (${sql})) TO ${quoteLiteral(stage)} (FORMAT parquet)`,
    ),
  );
  const staged = `read_parquet(${quoteLiteral(stage)})`;
  const periods = await queryRows<{ p: string }>(
    conn,
    `SELECT DISTINCT ${PERIOD} AS p FROM ${staged} ORDER BY p`,
  );
  const files: WrittenFile[] = [];
  for (const { p } of periods) {
    const select = `SELECT * EXCLUDE (${PERIOD}) FROM ${staged} WHERE ${PERIOD} = ${quoteLiteral(String(p))}`;
    files.push(await writer.writeParquet(conn, shardPath(exported.id, String(p)), select));
  }
  return files;
}

/**
 * Partitioned table with a key and a watermark: only the periods that changed rows land in, or
 * that hold rows the changes replace, are rewritten; every other shard is kept as it is.
 */
export async function mergePartitions(
  conn: DuckDBConnection,
  writer: ExtractWriter,
  exported: Export,
  column: string,
  granularity: Granularity,
  previous: readonly FilesRow[],
): Promise<LocalTable['files']> {
  await stageIncoming(conn, exported, { column, granularity });
  const shardDir = join(writer.dataDir, exported.id);
  const byPeriod = new Map(
    previous.map((f) => [f.path.slice(exported.id.length + 1, -'.parquet'.length), f]),
  );
  const match = keyMatch(exported.primaryKey, 'n', 'o');
  const hit = await queryRows<{ f: string }>(
    conn,
    `SELECT DISTINCT filename AS f FROM read_parquet(${quoteLiteral(`${shardDir}/*.parquet`)}, filename = true, union_by_name = true) o WHERE EXISTS (SELECT 1 FROM incoming n WHERE ${match})`,
  );
  const touched = new Set<string>([
    ...(await queryRows<{ p: string }>(conn, `SELECT DISTINCT ${PERIOD} AS p FROM incoming`)).map((r) =>
      String(r.p),
    ),
    ...hit.map((r) => String(r.f).slice(shardDir.length + 1, -'.parquet'.length)),
  ]);
  const files: WrittenFile[] = [];
  for (const [period, file] of byPeriod) {
    if (!touched.has(period)) files.push(await keptFile(conn, writer, file));
  }
  for (const period of [...touched].sort()) {
    const old = byPeriod.get(period);
    const oldSql = old ? `SELECT * FROM read_parquet(${quoteLiteral(join(writer.dataDir, old.path))})` : null;
    const { sql, expected } = await merged(conn, exported, oldSql, `${PERIOD} = ${quoteLiteral(period)}`);
    if (expected === 0) continue;
    files.push(
      await writer.writeParquet(conn, shardPath(exported.id, period), sql, { expectedRows: expected }),
    );
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** A published file kept as it is: its recorded hash, and its row count (DuckDB reads it from the footer). */
export async function keptFile(
  conn: DuckDBConnection,
  writer: ExtractWriter,
  file: FilesRow,
): Promise<WrittenFile> {
  const path = quoteLiteral(join(writer.dataDir, file.path));
  const row = await queryOne(conn, `SELECT count(*) AS n FROM read_parquet(${path})`);
  return { path: file.path, size: file.size_bytes, sha256: file.sha256, rows: toNumber(row?.n) ?? 0 };
}

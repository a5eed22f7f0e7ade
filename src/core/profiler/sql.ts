import type { TypeCategory } from '../../contract/index.js';
import { quoteIdent, quoteLiteral } from '../duckdb/sql.js';
import { isFloatingType, isVarchar } from './categories.js';

/**
 * Query builders. Each pass reads a projection that prepares every column once: `r<i>` the raw
 * value, `f<i>` a finite DOUBLE (NUMERIC), `s<i>` a VARCHAR (STRING), `t<i>` a finite date or
 * timestamp (DATE, TIMESTAMP). Result columns are named `c<i>_<stat>`.
 */

export interface ColumnPlan {
  index: number;
  name: string;
  type: string;
  category: TypeCategory;
}

export const SAMPLE_TABLE = 'profiled_sample';
const SAMPLE_SEED = 42;

const fileList = (files: string[]) => `[${files.map(quoteLiteral).join(', ')}]`;

export function parquetSource(files: string[]): string {
  return `read_parquet(${fileList(files)}, union_by_name = true)`;
}

/** Row count from the Parquet footers: no data is read. */
export function rowCountSql(files: string[]): string {
  return `SELECT coalesce(sum(num_rows), 0) AS n FROM parquet_file_metadata(${fileList(files)})`;
}

export function describeSql(source: string): string {
  return `DESCRIBE SELECT * FROM ${source}`;
}

/** Materialises the sample once, so later passes read it instead of the files. */
export function sampleSql(source: string, rows: number): string {
  return `CREATE TEMP TABLE ${SAMPLE_TABLE} AS SELECT * FROM ${source} USING SAMPLE reservoir(${rows} ROWS) REPEATABLE (${SAMPLE_SEED})`;
}

export const raw = (c: ColumnPlan) => `r${c.index}`;
export const finite = (c: ColumnPlan) => `f${c.index}`;
export const text = (c: ColumnPlan) => `s${c.index}`;
export const temporal = (c: ColumnPlan) => `t${c.index}`;
/** Result columns: `c<i>_<stat>`. */
export const alias = (c: ColumnPlan, stat: string) => `c${c.index}_${stat}`;

/** A result row of the passes; their `c<i>_<stat>` names never overlap, so their rows merge into one. */
export type ResultRow = Record<string, unknown>;
export const stat = (row: ResultRow, c: ColumnPlan, name: string) => row[alias(c, name)];

/**
 * When a numeric value enters the statistics: NaN and ±Infinity count as present values but would
 * poison min, max, mean and quantiles.
 */
export function isFiniteSql(c: ColumnPlan, valueSql: string): string {
  return isFloatingType(c.type) ? `isfinite(${valueSql})` : `${valueSql} IS NOT NULL`;
}

function projection(c: ColumnPlan): string[] {
  const column = quoteIdent(c.name);
  const out = [`${column} AS ${raw(c)}`];
  if (c.category === 'NUMERIC') {
    const value = isFloatingType(c.type)
      ? `CASE WHEN ${isFiniteSql(c, column)} THEN CAST(${column} AS DOUBLE) END`
      : `CAST(${column} AS DOUBLE)`;
    out.push(`${value} AS ${finite(c)}`);
  } else if (c.category === 'STRING') {
    out.push(`${isVarchar(c.type) ? column : `CAST(${column} AS VARCHAR)`} AS ${text(c)}`);
  } else if (c.category === 'DATE' || c.category === 'TIMESTAMP') {
    out.push(`CASE WHEN isfinite(${column}) THEN ${column} END AS ${temporal(c)}`);
  }
  return out;
}

/** `FROM (SELECT <projection of columns> FROM source)`. */
export function fromProjected(columns: ColumnPlan[], source: string): string {
  const select = columns.flatMap(projection);
  return `FROM (SELECT ${select.length > 0 ? select.join(', ') : '1 AS unused'} FROM ${source})`;
}

/** The `limit` smallest values as text; `valueSql` may start with DISTINCT. */
export function sampleValuesSql(valueSql: string, limit: number, filter = ''): string {
  return limit > 0 ? `CAST(min(${valueSql}, ${limit})${filter} AS VARCHAR[])` : 'CAST([] AS VARCHAR[])';
}

/** The first rows, every value rendered by DuckDB as text. */
export function sampleRowsSql(columns: ColumnPlan[], source: string, limit: number): string {
  const select = columns.map((c, i) => `CAST(${quoteIdent(c.name)} AS VARCHAR) AS v${i}`);
  return `SELECT ${select.join(', ')} FROM ${source} LIMIT ${limit}`;
}

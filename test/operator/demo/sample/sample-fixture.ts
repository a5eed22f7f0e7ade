import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type DuckSession, openDuck, queryRows, toNumber } from '../../../../src/core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../../../src/core/duckdb/sql.js';
import { SAMPLE_TABLES } from '../../../../src/operator/demo/sample/table-spec.js';

/** Shared plumbing for the sample-generator tests: temp dirs, file hashes and SQL over the output. */

export async function makeTempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'agnes-sample-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** File name → SHA-256 of every file in `dir`. */
export async function hashFiles(dir: string): Promise<Record<string, string>> {
  const hashes: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    hashes[name] = createHash('sha256')
      .update(await readFile(join(dir, name)))
      .digest('hex');
  }
  return hashes;
}

/** An in-memory DuckDB with one view per generated Parquet table. */
export async function openSample(dir: string): Promise<DuckSession> {
  const duck = await openDuck(':memory:', { threads: 2 });
  for (const table of SAMPLE_TABLES) {
    const path = quoteLiteral(join(dir, `${table}.parquet`));
    await duck.conn.run(`CREATE VIEW ${quoteIdent(table)} AS SELECT * FROM read_parquet(${path})`);
  }
  return duck;
}

/** The single value of a one-row, one-column query, as a number. */
export async function scalar(conn: DuckDBConnection, sql: string): Promise<number> {
  const rows = await queryRows(conn, sql);
  const value = toNumber(Object.values(rows[0] ?? {})[0]);
  if (value === null) throw new Error(`no numeric result for: ${sql}`);
  return value;
}

/** Share of `table` rows where `condition` holds. */
export function share(conn: DuckDBConnection, table: string, condition: string): Promise<number> {
  return scalar(conn, `SELECT avg(CASE WHEN ${condition} THEN 1.0 ELSE 0.0 END) FROM ${table}`);
}

/** Value → share of rows, for checking a categorical distribution. */
export async function shares(
  conn: DuckDBConnection,
  table: string,
  column: string,
): Promise<Map<string, number>> {
  const rows = await queryRows<{ value: string; share: number }>(
    conn,
    `SELECT ${column}::VARCHAR AS value, count(*) / sum(count(*)) OVER () AS share FROM ${table} GROUP BY 1`,
  );
  return new Map(rows.map((row) => [row.value, Number(row.share)]));
}

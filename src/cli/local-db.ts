import { access } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { type DuckSession, openDuck, queryRows } from '../core/duckdb/engine.js';
import { encodeValue } from '../core/query/value-encoding.js';
import { CliError, EXIT } from './errors.js';
import type { Cell } from './format.js';

export interface LocalResult {
  columns: string[];
  column_types: string[];
  rows: Cell[][];
  truncated: boolean;
}

/** The local analytics database, read-only: `da` never changes it outside `da sync` (06 §5.2). */
export async function openLocalDb(dbPath: string): Promise<DuckSession> {
  try {
    await access(dbPath);
  } catch {
    throw new CliError(EXIT.failed, 'local database not found; run: da sync', 'local_db_missing');
  }
  try {
    return await openDuck(dbPath, { readOnly: true });
  } catch (error) {
    throw new CliError(
      EXIT.failed,
      `cannot open the local database (${firstLine(error)}); is a sync running?`,
      'local_db_unavailable',
    );
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/** Runs SQL reading at most `limit` + 1 rows, so truncation is known without reading everything. */
export async function runLocal(conn: DuckDBConnection, sql: string, limit: number): Promise<LocalResult> {
  try {
    const reader = await conn.streamAndReadUntil(sql, limit + 1);
    const rows = reader.convertRows(encodeValue) as Cell[][];
    return {
      columns: reader.columnNames(),
      column_types: reader.columnTypes().map((type) => type.toString()),
      rows: rows.slice(0, limit),
      truncated: rows.length > limit,
    };
  } catch (error) {
    throw new CliError(EXIT.failed, firstLine(error), 'query_failed');
  }
}

/** Views and tables a user can query locally; the sync bookkeeping table is not one of them. */
export async function localRelations(conn: DuckDBConnection): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(
    conn,
    `SELECT view_name AS name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal
     UNION SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND table_name <> '_da_views'
     ORDER BY name`,
  );
  return rows.map((row) => row.name);
}

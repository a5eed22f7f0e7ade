import type { DuckDBConnection } from '@duckdb/node-api';
import { queryOne } from '../duckdb/engine.js';
import { quoteLiteral } from '../duckdb/sql.js';
import { errorMessage } from '../errors.js';

/**
 * Layer 3 of the query guard (05 §1, §4 steps 5–7): once its views exist, a DuckDB instance that
 * runs caller SQL may read only the listed files and directories, and nobody can change that.
 * The server's sandboxes and `da mcp`'s local queries are locked down the same way.
 */

const list = (values: readonly string[]) => `[${values.map(quoteLiteral).join(', ')}]`;

/**
 * The lock-down as one statement, in the order that matters: the allow-lists, then external
 * access off, then the configuration locked. A caller may append it to its own last statement.
 */
export function lockDownSql(allowed: { paths: readonly string[]; directories: readonly string[] }): string {
  return [
    `SET allowed_paths = ${list(allowed.paths)}`,
    `SET allowed_directories = ${list(allowed.directories)}`,
    'SET enable_external_access = false',
    'SET lock_configuration = true',
  ].join(';\n');
}

export async function lockDown(
  conn: DuckDBConnection,
  allowed: { paths: readonly string[]; directories: readonly string[] },
): Promise<void> {
  await conn.run(lockDownSql(allowed));
}

/** External access is off, the configuration locked, and `probePath` (outside the allow-list) unreadable. */
export async function verifyLockedDown(conn: DuckDBConnection, probePath: string): Promise<void> {
  const settings = await queryOne<{ external: unknown; locked: unknown }>(
    conn,
    `SELECT current_setting('enable_external_access') AS external, current_setting('lock_configuration') AS locked`,
  );
  if (settings?.external !== false || settings?.locked !== true)
    throw new Error('sandbox self-check: configuration is not locked down');
  let probe: unknown = null;
  try {
    await conn.run(`SELECT count(*) FROM read_blob(${quoteLiteral(probePath)})`);
  } catch (error) {
    probe = error;
  }
  if (!probe || !/Permission Error/i.test(errorMessage(probe)))
    throw new Error('sandbox self-check: a file outside the allow-list was readable');
}

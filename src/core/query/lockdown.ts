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

export async function lockDown(
  conn: DuckDBConnection,
  allowed: { paths: readonly string[]; directories: readonly string[] },
): Promise<void> {
  await conn.run(`SET allowed_paths = ${list(allowed.paths)}`);
  await conn.run(`SET allowed_directories = ${list(allowed.directories)}`);
  await conn.run('SET enable_external_access = false');
  await conn.run('SET lock_configuration = true');
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

import { isAbsolute, join, relative } from 'node:path';
import { openDuck, queryRows } from '../duckdb/engine.js';
import { quoteLiteral } from '../duckdb/sql.js';

export interface ColumnInfo {
  name: string;
  type: string;
}

/**
 * A published local table's columns for the catalog when it has no profile yet: DuckDB reads only
 * the Parquet footers of the table's recorded files (paths from `sync_state.files`, never from a
 * request) on a private in-memory instance capped at one thread and 64 MiB. Null when the files
 * cannot be read (replaced by a rebuild meanwhile, or outside `extracts/`).
 */
export async function describeParquet(
  dataDir: string,
  files: readonly { path: string }[],
): Promise<ColumnInfo[] | null> {
  const extracts = join(dataDir, 'extracts');
  const paths = files.map((f) => join(dataDir, f.path));
  if (paths.length === 0) return null;
  for (const path of paths) {
    const inside = relative(extracts, path);
    if (inside.startsWith('..') || isAbsolute(inside)) return null;
  }
  let duck: Awaited<ReturnType<typeof openDuck>> | undefined;
  try {
    duck = await openDuck(':memory:', { threads: 1, memoryLimit: '64MiB' });
    const list = `[${paths.map(quoteLiteral).join(', ')}]`;
    const rows = await queryRows<{ column_name: string; column_type: string }>(
      duck.conn,
      `DESCRIBE SELECT * FROM read_parquet(${list}, union_by_name = true)`,
    );
    return rows.map((r) => ({ name: r.column_name, type: r.column_type }));
  } catch {
    return null;
  } finally {
    duck?.close();
  }
}

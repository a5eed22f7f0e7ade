import { stat } from 'node:fs/promises';
import { layoutOf, targetPath } from '../sync/paths.js';
import { loadState } from '../sync/state.js';
import type { LocalView } from '../sync/views.js';

/** A table whose Parquet files are all on this laptop, with their absolute paths. */
export type SyncedTable = Pick<LocalView, 'id' | 'layout' | 'files'>;

async function isFile(path: string): Promise<boolean> {
  const info = await stat(path).catch(() => null);
  return info?.isFile() === true;
}

/**
 * The locally synced tables (14 §4 local first), read from the sync state on every call so a
 * `da sync` in another terminal is seen at once. A table counts only when every file the state
 * lists is present at its safe local path (06 §8): a half-deleted copy is queried on the server.
 */
export async function syncedTables(
  statePath: string,
  server: string,
  localDir: string,
): Promise<SyncedTable[]> {
  const state = await loadState(statePath, server, localDir);
  const { parquetRoot } = layoutOf(localDir);
  const tables: SyncedTable[] = [];
  for (const [id, table] of Object.entries(state.tables)) {
    const names = Object.keys(table.files).sort();
    if (names.length === 0) continue;
    try {
      const files = await Promise.all(names.map((name) => targetPath(parquetRoot, id, table.layout, name)));
      if ((await Promise.all(files.map(isFile))).every(Boolean))
        tables.push({ id, layout: table.layout, files });
    } catch {
      // An unsafe name or a symlink on the way: never read.
    }
  }
  return tables;
}

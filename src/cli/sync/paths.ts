import { lstat, mkdir } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { isValidShardName, isValidTableId } from '../../core/ids.js';

/** The local layout of 06 §2. */
export function layoutOf(localDir: string) {
  const parquetRoot = resolve(localDir, 'server', 'parquet');
  return {
    parquetRoot,
    dbPath: resolve(localDir, 'user', 'duckdb', 'analytics.duckdb'),
    lockPath: resolve(localDir, '.da', 'sync.lock'),
    sessionsDir: resolve(localDir, 'user', 'sessions'),
    localMd: resolve(localDir, '.claude', 'CLAUDE.local.md'),
  };
}

export class UnsafePathError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'UnsafePathError';
  }
}

/**
 * The local path of a table file, built only from validated parts: `<id>.parquet` for a single-file
 * table (whatever the server calls it), `<id>/<shard>` for a multi-file one. The result must lie
 * under the parquet root, and no existing component on the way may be a symlink.
 */
export async function targetPath(
  parquetRoot: string,
  tableId: string,
  layout: 'single' | 'multi',
  fileName: string,
): Promise<string> {
  const resolved = localPath(parquetRoot, tableId, layout, fileName);
  await refuseSymlinks(parquetRoot, resolved);
  return resolved;
}

/** The same path as `targetPath`, checked against the root but not against the filesystem. */
export function localPath(
  parquetRoot: string,
  tableId: string,
  layout: 'single' | 'multi',
  fileName: string,
): string {
  if (!isValidTableId(tableId)) throw new UnsafePathError('invalid table id');
  if (layout === 'multi' && !isValidShardName(fileName)) throw new UnsafePathError('invalid shard name');
  const path =
    layout === 'single' ? join(parquetRoot, `${tableId}.parquet`) : join(parquetRoot, tableId, fileName);
  const resolved = resolve(path);
  if (!resolved.startsWith(parquetRoot + sep))
    throw new UnsafePathError('path escapes the local data directory');
  return resolved;
}

/** Every existing component from the root's parent down to `path` must be a real directory or file. */
export async function refuseSymlinks(root: string, path: string): Promise<void> {
  const parts = relative(root, path).split(sep);
  let current = root;
  for (const part of ['', ...parts]) {
    current = part ? join(current, part) : current;
    const info = await lstat(current).catch(() => null);
    if (!info) return;
    if (info.isSymbolicLink()) throw new UnsafePathError('a symlink is in the way');
  }
}

export async function ensureParent(path: string): Promise<void> {
  await mkdir(resolve(path, '..'), { recursive: true, mode: 0o755 });
}

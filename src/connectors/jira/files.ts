import { constants } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { DIR_MODE } from '../../core/fs/atomic.js';

/** File helpers for `DATA_DIR/jira/`, where the app never follows a symlink (01 §4). */

/** Reads a whole file refusing a symlink at the last path component; null when it does not exist. */
export async function readNoFollow(path: string): Promise<string | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  try {
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: DIR_MODE });
}

/** `2024-04-01T12:30:45.123Z` → `20240401T123045123Z`: sortable, and safe in a file name. */
export function compactTime(iso: string): string {
  return iso.replace(/[-:.]/g, '');
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Walking `DATA_DIR/uploads/` as both collectors do (08 §4.3, §5): user directories named by a
 * UUID (any case), real directories and regular files only — a symlink anywhere is never followed.
 */

export const UUID_DIR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/** Entries of a real directory; none when it is missing or not a directory (a symlink included). */
export async function entriesOf(dir: string): Promise<Dirent[]> {
  if (!(await lstatOrNull(dir))?.isDirectory()) return [];
  return (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** `uploads/<uuid>` directories: their names as found. */
export async function userDirectories(uploadsDir: string): Promise<string[]> {
  return (await entriesOf(uploadsDir))
    .filter((entry) => entry.isDirectory() && UUID_DIR.test(entry.name))
    .map((entry) => entry.name);
}

/** `<dir>/<YYYY>/<MM>/` folders below a user's `sessions/`, as `[year, month]`. */
export async function monthFolders(sessionsDir: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const year of await entriesOf(sessionsDir)) {
    if (!year.isDirectory() || !/^\d{4}$/.test(year.name)) continue;
    for (const month of await entriesOf(join(sessionsDir, year.name))) {
      if (month.isDirectory() && /^(0[1-9]|1[0-2])$/.test(month.name)) out.push([year.name, month.name]);
    }
  }
  return out;
}

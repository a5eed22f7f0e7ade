import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DIR_MODE, fsyncDir, writeFileAtomic } from '../../core/fs/atomic.js';
import { entriesOf, lstatOrNull, monthFolders, userDirectories } from '../uploads-tree.js';
import { monthOfDate, type Verdict, validateTranscript } from './validate.js';

/**
 * `agnes session-collector` (08 §5, §4.3): files each user's uploaded transcripts from
 * `uploads/<uuid>/incoming/sessions/` into `uploads/<uuid>/sessions/<YYYY>/<MM>/` by atomic
 * rename, rejects invalid ones into `rejected/` with a `.reason`, and deletes transcripts past
 * retention. It works on files only: nothing leaves a user's directory, no symlink is followed.
 */

export interface SessionCollectorDeps {
  dataDir: string;
  maxBytes: number;
  retentionDays: number;
  log: Logger;
  now?: () => Date;
}

export interface SessionCollectorCounts {
  users: number;
  filed: number;
  replaced: number;
  duplicates: number;
  rejected: number;
  removed: number;
  expired: number;
  errors: number;
}

const SESSION_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.jsonl$/;
const DAY_MS = 86_400_000;

/** `base/<segments…>` as real directories, created when missing; anything else in the way → throws. */
async function realDir(base: string, segments: readonly string[]): Promise<string> {
  let path = base;
  for (const segment of segments) {
    path = join(path, segment);
    try {
      await mkdir(path, { mode: DIR_MODE });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (!(await lstat(path)).isDirectory()) throw new Error('an upload directory is not a directory');
  }
  return path;
}

/** The bytes of a regular file, refusing a symlink swapped in since the listing. */
async function readRegular(path: string): Promise<Buffer> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Where a transcript of this name is already filed, so a grown one replaces it in place. */
async function filedAt(sessionsDir: string, name: string): Promise<[string, string] | null> {
  for (const [year, month] of await monthFolders(sessionsDir)) {
    if ((await lstatOrNull(join(sessionsDir, year, month, name)))?.isFile()) return [year, month];
  }
  return null;
}

export async function runSessionCollector(deps: SessionCollectorDeps): Promise<SessionCollectorCounts> {
  const counts: SessionCollectorCounts = {
    users: 0,
    filed: 0,
    replaced: 0,
    duplicates: 0,
    rejected: 0,
    removed: 0,
    expired: 0,
    errors: 0,
  };
  const now = deps.now?.() ?? new Date();
  const uploads = join(deps.dataDir, 'uploads');
  for (const dir of await userDirectories(uploads)) {
    counts.users += 1;
    const userDir = join(uploads, dir);
    try {
      await collectUser(deps, userDir, counts);
      counts.expired += await expire(join(userDir, 'sessions'), now, deps.retentionDays);
    } catch {
      counts.errors += 1;
    }
  }
  deps.log.info({ ...counts }, 'session collector: cycle finished');
  return counts;
}

async function collectUser(deps: SessionCollectorDeps, userDir: string, counts: SessionCollectorCounts) {
  const incoming = join(userDir, 'incoming', 'sessions');
  for (const entry of await entriesOf(incoming)) {
    const path = join(incoming, entry.name);
    try {
      if (!entry.isFile()) {
        // A symlink or directory here was planted: removed, never followed (08 §4.3).
        await rm(path, { recursive: true, force: true });
        counts.removed += 1;
        continue;
      }
      await fileOne(deps, userDir, entry.name, path, counts);
    } catch {
      counts.errors += 1;
    }
  }
}

async function fileOne(
  deps: SessionCollectorDeps,
  userDir: string,
  name: string,
  path: string,
  counts: SessionCollectorCounts,
): Promise<void> {
  const stats = await lstat(path);
  let checked: Verdict;
  let bytes: Buffer = Buffer.alloc(0);
  if (!SESSION_FILE.test(name))
    checked = { valid: false, reason: 'the file name is not a session name (name.jsonl)' };
  else if (stats.size > deps.maxBytes)
    checked = { valid: false, reason: `larger than ${deps.maxBytes} bytes` };
  else {
    bytes = await readRegular(path);
    checked = validateTranscript(bytes, deps.maxBytes);
  }
  if (!checked.valid) {
    const rejected = await realDir(userDir, ['rejected']);
    await writeFileAtomic(join(rejected, `${name}.reason`), `${checked.reason}\n`);
    await rename(path, join(rejected, name));
    await fsyncDir(rejected);
    counts.rejected += 1;
    return;
  }
  const sessionsDir = await realDir(userDir, ['sessions']);
  const { year, month } = checked.month ?? monthOfDate(stats.mtime);
  const [y, m] = (await filedAt(sessionsDir, name)) ?? [year, month];
  const target = await realDir(sessionsDir, [y, m]);
  const finalPath = join(target, name);
  const existing = await lstatOrNull(finalPath);
  if (
    existing?.isFile() &&
    existing.size === bytes.byteLength &&
    (await readRegular(finalPath)).equals(bytes)
  ) {
    await rm(path);
    counts.duplicates += 1;
    return;
  }
  if (existing && !existing.isFile()) await rm(finalPath, { recursive: true, force: true });
  await rename(path, finalPath);
  await fsyncDir(target);
  if (existing?.isFile()) counts.replaced += 1;
  else counts.filed += 1;
}

/** Deletes transcripts of months that ended more than `retentionDays` ago (08 §4.3). */
async function expire(sessionsDir: string, now: Date, retentionDays: number): Promise<number> {
  let deleted = 0;
  for (const [year, month] of await monthFolders(sessionsDir)) {
    const monthEnd = Date.UTC(Number(year), Number(month), 1);
    if (now.getTime() - monthEnd <= retentionDays * DAY_MS) continue;
    const folder = join(sessionsDir, year, month);
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      if (!entry.isFile() && !entry.isSymbolicLink()) continue;
      await rm(join(folder, entry.name), { force: true });
      deleted += 1;
    }
    await rmdir(folder).catch(() => undefined);
  }
  return deleted;
}

import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DIR_MODE } from '../fs/atomic.js';

/**
 * Temp files per replica (13 §3): each replica writes under `DATA_DIR/tmp/<instance_id>/` only, so
 * replicas sharing one DATA_DIR never see, or wipe, each other's files in flight.
 */

/** A directory named by an `instance_id` (a UUID), as opposed to older loose temp entries. */
const INSTANCE_DIR = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A connector's per-source extract scratch, owned by that source's write lock: never pruned here. */
const EXTRACT_SCRATCH = /^extract-/;

export function tempRoot(dataDir: string): string {
  return join(dataDir, 'tmp');
}

/**
 * This replica's temp directory, emptied and made private (0700). Its `instance_id` is new at every
 * start, so what it wipes can only be its own.
 */
export async function makeTempDir(dataDir: string, instanceId: string): Promise<string> {
  await mkdir(tempRoot(dataDir), { recursive: true, mode: DIR_MODE });
  const dir = join(tempRoot(dataDir), instanceId);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  return dir;
}

export interface TempPruning {
  dataDir: string;
  /** The `instance_id`s of replicas alive now (a recent heartbeat), this one among them. */
  live: ReadonlySet<string>;
  now: Date;
  /** An entry is removed only when it has not changed for this long (24 h). */
  maxAgeMs: number;
}

/**
 * Removes the temp directories of replicas no longer alive, and the loose entries older versions
 * left directly under `DATA_DIR/tmp` (`uploads/`, `query/`, …), once unchanged for `maxAgeMs`.
 * Answers how many entries went.
 */
export async function pruneTempDirs(options: TempPruning): Promise<number> {
  const root = tempRoot(options.dataDir);
  const entries = await readdir(root).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const before = options.now.getTime() - options.maxAgeMs;
  let removed = 0;
  for (const name of entries) {
    if (EXTRACT_SCRATCH.test(name)) continue;
    if (INSTANCE_DIR.test(name) && options.live.has(name)) continue;
    const path = join(root, name);
    const info = await lstat(path).catch(() => null);
    if (!info || info.mtimeMs >= before) continue;
    await rm(path, { recursive: true, force: true });
    removed += 1;
  }
  return removed;
}

import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

export interface LockInfo {
  pid: number;
  hostname: string;
  started_at: string;
}

export interface LockOptions {
  /** How long to wait for a held lock before giving up. */
  waitMs?: number;
  /** A lock older than this is considered abandoned. */
  staleMs?: number;
  pollMs?: number;
}

export interface HeldLock {
  readonly path: string;
  release(): Promise<void>;
}

export class LockTimeoutError extends Error {
  constructor(readonly path: string) {
    super('lock is held by another process');
    this.name = 'LockTimeoutError';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(path: string): Promise<{ info: LockInfo | null; raw: string; ageMs: number } | null> {
  try {
    const [raw, info] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    let parsed: LockInfo | null = null;
    try {
      parsed = JSON.parse(raw) as LockInfo;
    } catch {
      parsed = null;
    }
    return { info: parsed, raw, ageMs: Date.now() - info.mtimeMs };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function isStale(lock: { info: LockInfo | null; ageMs: number }, staleMs: number): boolean {
  if (lock.ageMs > staleMs) return true;
  // Content is written right after the exclusive create; give a writer a moment before judging.
  if (!lock.info) return lock.ageMs > 5_000;
  if (lock.info.hostname === hostname() && !processAlive(lock.info.pid)) return true;
  return false;
}

/**
 * Cross-process exclusive lock by exclusive file creation. A lock whose process is gone (same host)
 * or that is older than `staleMs` is removed. Waits up to `waitMs`, then throws LockTimeoutError.
 */
export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  const waitMs = options.waitMs ?? 60_000;
  const staleMs = options.staleMs ?? 30 * 60_000;
  const pollMs = options.pollMs ?? 50;
  const deadline = Date.now() + waitMs;
  const info: LockInfo = { pid: process.pid, hostname: hostname(), started_at: new Date().toISOString() };
  const content = JSON.stringify(info);

  for (;;) {
    try {
      await writeFile(path, content, { flag: 'wx', mode: 0o640 });
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          const current = await readLock(path);
          if (current && current.raw === content) await rm(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const existing = await readLock(path);
    if (existing && isStale(existing, staleMs)) {
      // Re-read right before removing so a lock another process just took is not removed.
      const again = await readLock(path);
      if (again && again.raw === existing.raw) await rm(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) throw new LockTimeoutError(path);
    await sleep(pollMs);
  }
}

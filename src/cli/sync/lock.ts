import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { acquireLock, type HeldLock, LockTimeoutError } from '../../core/fs/lock-file.js';
import { CliError, EXIT } from '../errors.js';

/**
 * The sync lock of one local directory (06 §6 sync, step 1): a second `da sync` in the same
 * directory stops at once instead of waiting, since two runs would race on the same files.
 */
export async function lockSyncDirectory(lockPath: string): Promise<HeldLock> {
  await mkdir(dirname(lockPath), { recursive: true });
  return acquireLock(lockPath, { waitMs: 0 }).catch((error: unknown) => {
    if (error instanceof LockTimeoutError)
      throw new CliError(EXIT.failed, 'sync already running in this directory', 'sync_running');
    throw error;
  });
}

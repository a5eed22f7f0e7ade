import { constants } from 'node:fs';
import { type FileHandle, open, realpath } from 'node:fs/promises';
import { isAbsolute, join, posix } from 'node:path';
import type { FileRecord } from '../state/schema.js';

/** A published file opened for reading: the handle and the identity it was checked against. */
export interface OpenedFile {
  handle: FileHandle;
  size: number;
  mtime: Date;
}

export type OpenOutcome =
  | { ok: true; file: OpenedFile }
  /** The record is not a path inside `extracts/` (never expected from the orchestrator). */
  | { ok: false; reason: 'invalid_record' }
  /** Missing, a symlink, not a regular file, or size / mtime differ from the record (02 §4). */
  | { ok: false; reason: 'stale' };

/** A record's path must stay inside `DATA_DIR/extracts/`: relative, normalised, no `..` segment. */
export function isPublishedPath(path: string): boolean {
  if (path === '' || isAbsolute(path) || path.includes('\\') || path.includes('\0')) return false;
  if (posix.normalize(path) !== path) return false;
  const parts = path.split('/');
  return (
    parts[0] === 'extracts' && parts.length >= 3 && !parts.some((p) => p === '' || p === '.' || p === '..')
  );
}

const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

/** Whether no directory between `DATA_DIR` and the file is a symlink (`O_NOFOLLOW` covers the file). */
async function directoriesAreReal(dataDir: string, parts: readonly string[]): Promise<boolean> {
  try {
    const [root, parent] = await Promise.all([
      realpath(dataDir),
      realpath(join(dataDir, ...parts.slice(0, -1))),
    ]);
    return parent === join(root, ...parts.slice(0, -1));
  } catch {
    return false;
  }
}

/**
 * Opens the file a `sync_state` record names and checks it is still that file (02 §4): no symlink
 * is followed (the directories are resolved and compared, the file is opened with `O_NOFOLLOW`),
 * then `fstat` on the same descriptor, so the size and mtime compared are those of the bytes that
 * will be streamed.
 */
export async function openPublishedFile(dataDir: string, record: FileRecord): Promise<OpenOutcome> {
  if (!isPublishedPath(record.path)) return { ok: false, reason: 'invalid_record' };
  const parts = record.path.split('/');
  if (!(await directoriesAreReal(dataDir, parts))) return { ok: false, reason: 'stale' };
  let handle: FileHandle;
  try {
    handle = await open(join(dataDir, ...parts), READ_FLAGS);
  } catch {
    return { ok: false, reason: 'stale' };
  }
  try {
    const info = await handle.stat({ bigint: true });
    if (!info.isFile() || Number(info.size) !== record.size || info.mtimeNs.toString() !== record.mtime_ns) {
      await handle.close();
      return { ok: false, reason: 'stale' };
    }
    return { ok: true, file: { handle, size: Number(info.size), mtime: new Date(Number(info.mtimeMs)) } };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

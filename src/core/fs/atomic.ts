import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export const FILE_MODE = 0o640;
export const DIR_MODE = 0o750;
export const SECRET_MODE = 0o600;

/** `<final>.tmp-<random>`: the only shape of temp file any writer leaves behind on a crash. */
export function tempPathFor(finalPath: string): string {
  return `${finalPath}.tmp-${randomBytes(6).toString('hex')}`;
}

export const TEMP_FILE_PATTERN = /\.tmp-[A-Za-z0-9-]+$/;

export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates a new file (never an existing one) and fsyncs it through the one handle that wrote it:
 * three thread-pool hops fewer than writing and then reopening the file to fsync it. A write or
 * fsync that fails removes the file. `created` runs once the file exists, alongside its write and
 * fsync, and is awaited with them: a directory fsync started there covers the new entry, and
 * fsyncs issued together share the file system's journal commit instead of waiting for one each.
 */
export async function writeSyncedFile(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number; created?: () => Promise<void> } = {},
): Promise<void> {
  const handle = await open(path, 'wx', options.mode ?? FILE_MODE);
  const alongside = options.created?.().then(
    () => null,
    (error: unknown) => ({ error }),
  );
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await alongside;
    await handle.close().catch(() => undefined);
    await rm(path, { force: true });
    throw error;
  }
  await handle.close();
  const failed = await alongside;
  if (failed) throw failed.error;
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Renames a finished temp file over its final name and fsyncs the directory. */
export async function publishFile(tempPath: string, finalPath: string): Promise<void> {
  await rename(tempPath, finalPath);
  await fsyncDir(dirname(finalPath));
}

/** Writes a whole file through a fsynced temp file, so readers see the old or the new content. */
export async function writeFileAtomic(
  finalPath: string,
  data: string | Uint8Array,
  mode: number = FILE_MODE,
): Promise<void> {
  const temp = tempPathFor(finalPath);
  try {
    await writeFile(temp, data, { mode });
    await fsyncFile(temp);
    await publishFile(temp, finalPath);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

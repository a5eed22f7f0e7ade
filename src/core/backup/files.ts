import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DIR_MODE, fsyncFile } from '../fs/atomic.js';

export interface CopiedFile {
  size: number;
  sha256: string;
}

/** Copies a file byte for byte, hashing what it copies, and fsyncs the copy. */
export async function copyHashed(from: string, to: string, mode: number): Promise<CopiedFile> {
  await mkdir(dirname(to), { recursive: true, mode: DIR_MODE });
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(
    createReadStream(from, { highWaterMark: 1024 * 1024 }),
    tap,
    createWriteStream(to, { mode, flags: 'wx' }),
  );
  await fsyncFile(to);
  return { size, sha256: hash.digest('hex') };
}

/**
 * Every file under `root` as a relative POSIX path, sorted. Anything but plain files and folders
 * (a symlink, a socket) is returned with a trailing `?`, so a caller comparing listings sees it.
 */
export async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(root, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(root, rel)));
    else out.push(entry.isFile() ? rel : `${rel}?`);
  }
  return out.sort();
}

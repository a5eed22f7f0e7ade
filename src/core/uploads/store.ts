import { createHash, randomUUID } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AgnesError } from '../errors.js';
import { DIR_MODE, FILE_MODE, fsyncDir } from '../fs/atomic.js';
import { noteReceived } from './scavenge.js';

/**
 * User uploads under `DATA_DIR/uploads/<user_id>/` (01 §4, 03 §14). Bytes stream into
 * `uploads/` of the replica's temp directory (`DATA_DIR/tmp/<instance_id>/`, 13 §3) first and are renamed into place only when complete and within the
 * limit, so readers (the session collector) never see a partial file. No symlink is followed: every
 * directory below `DATA_DIR` is created or checked one component at a time with `lstat`, files are
 * opened with `O_NOFOLLOW | O_EXCL`, and listings skip anything that is not a regular file.
 */

export type UploadKind = 'sessions' | 'artifacts';

export const SESSION_FILENAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.jsonl$/;
export const ARTIFACT_FILENAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
export const LOCAL_MD_NAME = 'CLAUDE.local.md';

/** Where each kind lands, below `uploads/<user_id>/`. */
const TARGET: Record<UploadKind | 'local_md', string[]> = {
  sessions: ['incoming', 'sessions'],
  artifacts: ['artifacts'],
  local_md: ['local_md'],
};

export interface Received {
  tempPath: string;
  size: number;
  sha256: string;
}

export interface StoredFile {
  filename: string;
  size: number;
  uploaded_at: string;
}

export interface MyUploads {
  sessions: (StoredFile & { collected: boolean })[];
  artifacts: StoredFile[];
  local_md: { size: number; updated_at: string } | null;
}

export const tooLarge = (limit: number) =>
  new AgnesError('payload_too_large', `upload exceeds the limit of ${limit} bytes`);

/** A directory in the way is a symlink or a file: the upload area is not safe to write into. */
const unsafe = () => new AgnesError('internal_error', 'upload storage is not usable');

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/**
 * The temp file's write buffer. Socket chunks arrive at up to 64 KiB; with the default 16 KiB
 * mark every chunk was one write through the thread pool and the next chunk waited for it. A
 * 1 MiB mark lets chunks gather while a write is in flight and go out in one `writev`, and it is
 * also about the most an upload holds in memory on this side of the parser.
 */
const WRITE_BUFFER_BYTES = 1024 * 1024;

export class UploadStore {
  readonly #dataDir: string;
  /** The replica's temp directory as segments below `DATA_DIR`, walked like every other path. */
  readonly #tempSegments: readonly string[];

  /** `tempDir` is the replica's temp directory, inside `dataDir`. */
  constructor(dataDir: string, tempDir: string) {
    this.#dataDir = dataDir;
    const inside = relative(dataDir, tempDir);
    if (inside === '' || inside.startsWith('..') || isAbsolute(inside))
      throw new Error('the upload temp directory must be inside DATA_DIR');
    this.#tempSegments = inside.split(sep);
  }

  /**
   * `DATA_DIR/<segments…>` as a chain of real directories, creating missing ones with mode 0750.
   * A symlink (or anything but a directory) at any level is refused.
   */
  async #ensureDir(segments: readonly string[]): Promise<string> {
    let path = this.#dataDir;
    for (const segment of segments) {
      path = join(path, segment);
      try {
        await mkdir(path, { mode: DIR_MODE });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      if (!(await lstat(path)).isDirectory()) throw unsafe();
    }
    return path;
  }

  /** `DATA_DIR/<segments…>` when every level exists as a real directory; null otherwise. */
  async #existingDir(segments: readonly string[]): Promise<string | null> {
    let path = this.#dataDir;
    for (const segment of segments) {
      path = join(path, segment);
      if (!(await lstatOrNull(path))?.isDirectory()) return null;
    }
    return path;
  }

  async #tempFile(): Promise<string> {
    const dir = await this.#ensureDir([...this.#tempSegments, 'uploads']);
    return join(dir, `${randomUUID()}.part`);
  }

  /**
   * Streams `source` into a new temp file, counting and hashing as it goes. More than `maxBytes`
   * bytes → 413 as soon as the limit is crossed, with the temp file removed; nothing is buffered
   * beyond the stream's own high-water marks.
   */
  async receive(source: Readable, maxBytes: number): Promise<Received> {
    const tempPath = await this.#tempFile();
    const hash = createHash('sha256');
    let size = 0;
    const handle = await open(tempPath, WRITE_FLAGS, FILE_MODE);
    try {
      await pipeline(
        source,
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            size += chunk.length;
            if (size > maxBytes) throw tooLarge(maxBytes);
            hash.update(chunk);
            noteReceived(chunk.length);
            yield chunk;
          }
        },
        // The stream owns the handle: it fsyncs and closes it before the pipeline settles.
        handle.createWriteStream({ flush: true, highWaterMark: WRITE_BUFFER_BYTES }),
      );
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(tempPath, { force: true });
      throw error;
    }
    return { tempPath, size, sha256: hash.digest('hex') };
  }

  /** Writes a whole buffer as a temp file (for `local-md`). */
  async receiveBuffer(data: Uint8Array): Promise<Received> {
    const tempPath = await this.#tempFile();
    const handle = await open(tempPath, WRITE_FLAGS, FILE_MODE);
    try {
      await handle.writeFile(data);
      await handle.sync();
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(tempPath, { force: true });
      throw error;
    }
    return { tempPath, size: data.byteLength, sha256: createHash('sha256').update(data).digest('hex') };
  }

  /** Removes a temp file that will not be published. */
  async discard(received: Received): Promise<void> {
    await rm(received.tempPath, { force: true });
  }

  /**
   * Renames a received temp file to `uploads/<user_id>/<kind dir>/<filename>`; the filename must
   * already be validated. `replaced` says whether an entry of that name was there (a symlink
   * planted under the name is replaced, never followed).
   */
  async publish(
    received: Received,
    userId: string,
    kind: UploadKind | 'local_md',
    filename: string,
  ): Promise<{ replaced: boolean }> {
    try {
      const dir = await this.#ensureDir(['uploads', userId, ...TARGET[kind]]);
      const finalPath = join(dir, filename);
      const existing = await lstatOrNull(finalPath);
      if (existing?.isDirectory()) throw new AgnesError('conflict', 'a directory of that name exists');
      await rename(received.tempPath, finalPath);
      await fsyncDir(dir);
      return { replaced: existing !== null };
    } catch (error) {
      await this.discard(received);
      throw error;
    }
  }

  async #regularFiles(segments: readonly string[]): Promise<{ name: string; stats: Stats }[]> {
    const dir = await this.#existingDir(segments);
    if (!dir) return [];
    const out: { name: string; stats: Stats }[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const stats = await lstatOrNull(join(dir, entry.name));
      if (stats?.isFile()) out.push({ name: entry.name, stats });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async #subdirectories(segments: readonly string[], pattern: RegExp): Promise<string[]> {
    const dir = await this.#existingDir(segments);
    if (!dir) return [];
    return (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory() && pattern.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  }

  /** A user's uploads: pending and collected sessions, artifacts and the local CLAUDE.md. */
  async listMine(userId: string): Promise<MyUploads> {
    const base = ['uploads', userId];
    const view = (f: { name: string; stats: Stats }): StoredFile => ({
      filename: f.name,
      size: f.stats.size,
      uploaded_at: f.stats.mtime.toISOString(),
    });
    const sessions: MyUploads['sessions'] = (await this.#regularFiles([...base, ...TARGET.sessions]))
      .filter((f) => SESSION_FILENAME.test(f.name))
      .map((f) => ({ ...view(f), collected: false }));
    // The session collector files transcripts under sessions/<YYYY>/<MM>/ (08 §5).
    for (const year of await this.#subdirectories([...base, 'sessions'], /^\d{4}$/)) {
      for (const month of await this.#subdirectories([...base, 'sessions', year], /^\d{2}$/)) {
        for (const file of await this.#regularFiles([...base, 'sessions', year, month])) {
          if (SESSION_FILENAME.test(file.name)) sessions.push({ ...view(file), collected: true });
        }
      }
    }
    const artifacts = (await this.#regularFiles([...base, ...TARGET.artifacts]))
      .filter((f) => ARTIFACT_FILENAME.test(f.name))
      .map(view);
    const localMd = (await this.#regularFiles([...base, ...TARGET.local_md])).find(
      (f) => f.name === LOCAL_MD_NAME,
    );
    return {
      sessions,
      artifacts,
      local_md: localMd ? { size: localMd.stats.size, updated_at: localMd.stats.mtime.toISOString() } : null,
    };
  }
}

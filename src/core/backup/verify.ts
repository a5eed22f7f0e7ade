import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sha256File } from '../sync/hashing.js';
import { listFiles } from './files.js';
import { BackupError, MANIFEST_FILE, type Manifest, parseManifest, tableFile } from './manifest.js';
import { parseRow } from './rows.js';

/** A table file's rows, each of which must be a JSON object, so a load fails on no line. */
async function countRows(path: string, name: string): Promise<number> {
  let rows = 0;
  for await (const line of createInterface({
    input: createReadStream(path),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    rows += 1;
    if (!parseRow(line)) throw new BackupError(`${name}: line ${rows} is not a JSON object`);
  }
  return rows;
}

/**
 * Checks a snapshot before anything is restored from it (13 §4): the manifest's shape, every
 * table's checksum and row count, every listed file's size and checksum, and that the folder holds
 * nothing the manifest does not list (an unlisted file is an unverified one; refusing it keeps a
 * mixed-up or tampered folder from being half trusted). Throws naming the first failing part.
 */
export async function verifySnapshot(dir: string): Promise<Manifest> {
  const text = await readFile(join(dir, MANIFEST_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    throw new BackupError(
      error.code === 'ENOENT'
        ? `${dir}: no ${MANIFEST_FILE}; not a snapshot`
        : `${MANIFEST_FILE}: ${error.message}`,
    );
  });
  const manifest = parseManifest(text);
  const expected = new Set([
    MANIFEST_FILE,
    ...Object.keys(manifest.tables).map(tableFile),
    ...manifest.files.map((f) => f.path),
  ]);
  const present = await listFiles(dir);
  for (const path of present)
    if (!expected.has(path))
      throw new BackupError(`${path.replace(/\?$/, '')}: not listed in ${MANIFEST_FILE}`);
  const found = new Set(present);
  for (const path of expected) if (!found.has(path)) throw new BackupError(`${path}: missing`);
  for (const [table, listed] of Object.entries(manifest.tables)) {
    const path = join(dir, tableFile(table));
    if ((await sha256File(path)) !== listed.sha256)
      throw new BackupError(`${tableFile(table)}: checksum differs from ${MANIFEST_FILE}`);
    const rows = await countRows(path, tableFile(table));
    if (rows !== listed.rows)
      throw new BackupError(`${tableFile(table)}: ${rows} rows, ${MANIFEST_FILE} says ${listed.rows}`);
  }
  for (const file of manifest.files) {
    const path = join(dir, file.path);
    if ((await stat(path)).size !== file.size)
      throw new BackupError(`${file.path}: size differs from ${MANIFEST_FILE}`);
    if ((await sha256File(path)) !== file.sha256)
      throw new BackupError(`${file.path}: checksum differs from ${MANIFEST_FILE}`);
  }
  return manifest;
}

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import type { ErrorBody } from '../../contract/index.js';
import type { ApiClient } from '../client.js';
import { CliError, exitCodeForStatus } from '../errors.js';
import { ensureParent } from './paths.js';
import type { FileTask } from './plan.js';

const IDLE_TIMEOUT_MS = 60_000;

export class StaleManifestError extends Error {}

export class HashMismatchError extends Error {}

/** A network failure or a 502/503/504 mid-download: worth retrying, resuming from the `.part` file. */
export class TransientDownloadError extends Error {}

const TRANSIENT_STATUS = new Set([502, 503, 504]);

export function downloadPath(task: FileTask): string {
  const id = encodeURIComponent(task.table);
  return task.layout === 'single'
    ? `/api/data/${id}/download`
    : `/api/data/${id}/files/${encodeURIComponent(task.name)}`;
}

async function hashExisting(path: string, hash: ReturnType<typeof createHash>): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }))
    hash.update(chunk as Buffer);
}

/**
 * Downloads one file into `<target>.part`, resuming an earlier part with `Range` + `If-Range`,
 * hashing while writing; only a file with the manifest's size and SHA-256 is fsynced and renamed
 * over the target (06 §6 step 6).
 */
export async function downloadFile(
  client: ApiClient,
  task: FileTask,
  onBytes: (n: number) => void,
): Promise<void> {
  const part = `${task.target}.part`;
  await ensureParent(task.target);
  let offset = (await stat(part).catch(() => null))?.size ?? 0;
  if (offset >= task.size) {
    await rm(part, { force: true });
    offset = 0;
  }
  const headers = client.headers();
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    headers['if-range'] = `"${task.hash}"`;
  }
  const abort = new AbortController();
  let idle = setTimeout(() => abort.abort(), IDLE_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(client.url(downloadPath(task)), {
      headers,
      redirect: 'manual',
      signal: abort.signal,
    });
  } catch (error) {
    clearTimeout(idle);
    throw new TransientDownloadError(`download of ${task.table} failed (${(error as Error).message})`);
  }
  if (response.status === 416) {
    clearTimeout(idle);
    await response.body?.cancel();
    await rm(part, { force: true });
    return downloadFile(client, task, onBytes);
  }
  if (response.status !== 200 && response.status !== 206) {
    clearTimeout(idle);
    if (TRANSIENT_STATUS.has(response.status)) {
      await response.body?.cancel();
      throw new TransientDownloadError(`the server answered ${response.status}`);
    }
    const body = (await response.json().catch(() => ({}))) as Partial<ErrorBody>;
    if (response.status === 409 && body.code === 'stale_manifest') throw new StaleManifestError();
    throw new CliError(
      exitCodeForStatus(response.status),
      body.detail ?? `the server answered ${response.status}`,
      body.code ?? `http_${response.status}`,
      response.status,
    );
  }
  const resuming =
    response.status === 206 &&
    offset > 0 &&
    (response.headers.get('content-range') ?? '').startsWith(`bytes ${offset}-`);
  const hash = createHash('sha256');
  if (resuming) {
    await hashExisting(part, hash);
    onBytes(0);
  } else {
    offset = 0;
  }
  const out = createWriteStream(part, { flags: resuming ? 'a' : 'w', mode: 0o644 });
  let written = offset;
  try {
    const reader = response.body!.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      clearTimeout(idle);
      idle = setTimeout(() => abort.abort(), IDLE_TIMEOUT_MS);
      hash.update(value);
      written += value.byteLength;
      onBytes(value.byteLength);
      if (!out.write(value)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  } catch (error) {
    // What arrived stays in the `.part` file, so the retry asks only for the rest.
    throw new TransientDownloadError(
      `download of ${task.table} was interrupted (${(error as Error).message})`,
    );
  } finally {
    clearTimeout(idle);
    await new Promise<void>((resolve, reject) =>
      out.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }
  if (written !== task.size || hash.digest('hex') !== task.hash) {
    await rm(part, { force: true });
    throw new HashMismatchError(`${task.name}: size or SHA-256 differs from the manifest`);
  }
  const handle = await open(part, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(part, task.target);
}

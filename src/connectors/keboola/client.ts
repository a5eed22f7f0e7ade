import { createWriteStream } from 'node:fs';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import { FILE_MODE } from '../../core/fs/atomic.js';
import {
  describeUrl,
  fetchWithRetries,
  HttpFailure,
  type RetryTuning,
  retryAfterMs,
} from '../../core/http/retry.js';
import { untrustedLine } from '../../core/text/untrusted.js';
import {
  FileStorageError,
  type ObjectStoreEndpoints,
  type SliceRequest,
  type StorageFile,
  sliceRequest,
} from './file-storage.js';

/** Failure classes of the Storage API (07 §3.5 errors); each becomes a per-table failure code. */
export type KeboolaErrorCode = 'auth_failed' | 'not_found' | 'upstream_failed' | 'timeout' | 'export_failed';

export class KeboolaError extends Error {
  constructor(
    readonly code: KeboolaErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KeboolaError';
  }
}

export interface ColumnMetadata {
  key: string;
  value: string;
  provider?: string;
}

/** A table as `GET /v2/storage/tables` and `GET /v2/storage/tables/{id}` describe it. */
export interface StorageTable {
  id: string;
  name: string;
  bucket: { id: string; name?: string };
  columns: string[];
  primaryKey?: string[];
  rowsCount?: number | null;
  dataSizeBytes?: number | null;
  lastImportDate?: string | null;
  lastChangeDate?: string | null;
  columnMetadata?: Record<string, ColumnMetadata[]>;
}

export interface StorageJob {
  id: number | string;
  status: 'waiting' | 'processing' | 'success' | 'error' | string;
  createdTime?: string;
  results?: { file?: { id: number | string } } | null;
  error?: { message?: string } | null;
}

/** Timing knobs; production uses the defaults, tests shorten them. */
export interface ClientTuning extends RetryTuning {
  pollInitialMs: number;
  pollMaxMs: number;
}

export const DEFAULT_TUNING: ClientTuning = {
  requestTimeoutMs: 120_000,
  retries: 3,
  retryDelayMs: 1000,
  maxRetryAfterMs: 60_000,
  pollInitialMs: 1000,
  pollMaxMs: 5000,
};

const URL_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;

/** Upstream text is untrusted (07 §0 common model): URLs out (signed ones carry credentials), length-limited. */
export function upstreamText(text: unknown): string {
  return untrustedLine(String(text ?? '').replace(URL_TEXT, '<url>'), 300);
}

/**
 * A typed client of the Keboola Storage API (07 §3.1). The token goes only to the configured stack
 * URL, in `X-StorageApi-Token`; it is never part of a message. File-storage URLs from the API are
 * fetched without it.
 */
export class StorageClient {
  readonly #base: URL;
  readonly #token: string;
  readonly #tuning: ClientTuning;
  readonly #endpoints: ObjectStoreEndpoints;

  constructor(
    stackUrl: string,
    token: string,
    tuning: Partial<ClientTuning> = {},
    endpoints: ObjectStoreEndpoints = {},
  ) {
    this.#base = new URL(stackUrl.endsWith('/') ? stackUrl : `${stackUrl}/`);
    this.#token = token;
    this.#tuning = { ...DEFAULT_TUNING, ...tuning };
    this.#endpoints = endpoints;
  }

  listTables(): Promise<StorageTable[]> {
    return this.#json<StorageTable[]>('GET', 'v2/storage/tables?include=columns,buckets,metadata');
  }

  tableDetail(tableId: string): Promise<StorageTable> {
    return this.#json<StorageTable>(
      'GET',
      `v2/storage/tables/${encodeURIComponent(tableId)}?include=columns,metadata`,
    );
  }

  /** Starts `export-async` (gzipped slices); `changedSince` is a Unix time in seconds. */
  startExport(tableId: string, changedSince: number | null): Promise<StorageJob> {
    const form = new URLSearchParams({ gzip: '1' });
    if (changedSince !== null) form.set('changedSince', String(changedSince));
    return this.#json<StorageJob>(
      'POST',
      `v2/storage/tables/${encodeURIComponent(tableId)}/export-async`,
      form,
    );
  }

  /** Polls a job until it ends, 1 s apart growing to 5 s, for at most `timeoutMs`. */
  async waitForJob(jobId: string | number, timeoutMs: number): Promise<StorageJob> {
    const deadline = Date.now() + timeoutMs;
    let interval = this.#tuning.pollInitialMs;
    for (;;) {
      const job = await this.#json<StorageJob>('GET', `v2/storage/jobs/${encodeURIComponent(String(jobId))}`);
      if (job.status === 'success') return job;
      if (job.status === 'error')
        throw new KeboolaError('export_failed', upstreamText(job.error?.message) || 'export job failed');
      if (Date.now() + interval > deadline)
        throw new KeboolaError(
          'timeout',
          `export job did not finish within ${Math.round(timeoutMs / 1000)} s`,
        );
      await sleep(interval);
      interval = Math.min(Math.round(interval * 1.5), this.#tuning.pollMaxMs);
    }
  }

  fileInfo(fileId: string | number): Promise<StorageFile> {
    return this.#json<StorageFile>(
      'GET',
      `v2/storage/files/${encodeURIComponent(String(fileId))}?federationToken=1`,
    );
  }

  /** The slice requests of a file: the manifest's entries when sliced, else the file itself. */
  async slices(file: StorageFile): Promise<SliceRequest[]> {
    if (!file.isSliced) return [await this.#sliceRequest(file, file.url)];
    const manifest = await this.#sliceRequest(file, file.url);
    const response = await this.#fetch('GET', manifest.url, { withToken: false, headers: manifest.headers });
    const body = (await this.#readJson(response)) as { entries?: { url?: unknown }[] };
    if (!Array.isArray(body.entries))
      throw new KeboolaError('upstream_failed', 'slice manifest has no entries');
    return Promise.all(body.entries.map((entry) => this.#sliceRequest(file, String(entry.url ?? ''))));
  }

  /**
   * Streams one gzipped slice to `path`, decompressing it alongside so a damaged or cut slice
   * fails here (DuckDB reads a truncated gzip as the rows before the cut, without an error).
   */
  async downloadSlice(slice: SliceRequest, path: string): Promise<number> {
    for (let attempt = 0; ; attempt++) {
      const response = await this.#fetch('GET', slice.url, { withToken: false, headers: slice.headers });
      try {
        return await streamVerified(response, path);
      } catch (error) {
        if (attempt >= this.#tuning.retries || error instanceof KeboolaError) throw error;
        await sleep(retryAfterMs(null, attempt, this.#tuning));
      }
    }
  }

  async #sliceRequest(file: StorageFile, url: string): Promise<SliceRequest> {
    try {
      return await sliceRequest(file, url, this.#base.origin, this.#endpoints);
    } catch (error) {
      if (error instanceof FileStorageError) throw new KeboolaError('upstream_failed', error.message);
      throw error;
    }
  }

  async #json<T>(method: string, path: string, form?: URLSearchParams): Promise<T> {
    const response = await this.#fetch(method, new URL(path, this.#base).href, { withToken: true, form });
    return (await this.#readJson(response)) as T;
  }

  async #readJson(response: Response): Promise<unknown> {
    try {
      return await response.json();
    } catch {
      throw new KeboolaError('upstream_failed', `response of ${describeUrl(response.url)} is not JSON`);
    }
  }

  /** One request with retries on 429 / 5xx / network errors; other statuses map to error codes. */
  async #fetch(
    method: string,
    url: string,
    options: { withToken: boolean; form?: URLSearchParams | undefined; headers?: Record<string, string> },
  ): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.withToken) headers['X-StorageApi-Token'] = this.#token;
    try {
      return await fetchWithRetries(url, { method, headers, body: options.form }, this.#tuning);
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      if (error.kind === 'timeout') throw new KeboolaError('timeout', error.message);
      // Without the token it is file storage refusing its own credentials: that file fails, the token is fine.
      if ((error.status === 401 || error.status === 403) && !options.withToken)
        throw new KeboolaError('upstream_failed', `file storage refused the request (HTTP ${error.status})`);
      if (error.status === 401 || error.status === 403)
        throw new KeboolaError('auth_failed', `Storage API refused the token (HTTP ${error.status})`);
      if (error.status === 404)
        throw new KeboolaError('not_found', `${method} ${describeUrl(url)}: not found`);
      throw new KeboolaError('upstream_failed', error.message);
    }
  }
}

async function streamVerified(response: Response, path: string): Promise<number> {
  if (!response.body) throw new KeboolaError('upstream_failed', 'slice has no body');
  const gunzip = createGunzip();
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const checked = pipeline(gunzip, discard);
  let bytes = 0;
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (gunzip.write(chunk)) done(null, chunk);
      else gunzip.once('drain', () => done(null, chunk));
    },
    flush(done) {
      gunzip.end();
      done();
    },
  });
  gunzip.on('error', (error) => tee.destroy(error));
  try {
    await Promise.all([
      pipeline(Readable.fromWeb(response.body as never), tee, createWriteStream(path, { mode: FILE_MODE })),
      checked,
    ]);
  } catch (error) {
    gunzip.destroy();
    const damaged = error instanceof Error && 'code' in error && String(error.code).startsWith('Z_');
    throw damaged
      ? new KeboolaError('upstream_failed', 'slice is not a complete gzip stream')
      : new Error(`slice download broke off: ${error instanceof Error ? error.message : String(error)}`);
  }
  return bytes;
}

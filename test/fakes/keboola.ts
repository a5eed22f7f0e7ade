import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { AwsClient } from 'aws4fetch';

/**
 * A fake Keboola Storage API (07 §3.6) on 127.0.0.1: tables in memory with rows and change
 * times, export jobs that go `waiting → processing → success|error` over polls, sliced gzipped
 * files served from loopback URLs without the token, `changedSince`, token checks, and injectable
 * failures. Every request is logged.
 *
 * With `storage` set to a cloud provider, file details carry that provider's temporary
 * credentials and the manifest lists `s3://`, `gs://` or `azure://` slices, served by a fake object
 * store on the same port (`/s3/…`, `/gcs/…`, `/azure/…`; `objectStores` gives the client those
 * bases) that refuses a request without a valid SigV4 signature, bearer token or SAS.
 */

export type FakeStorage = 'stack' | 'aws' | 'gcp' | 'azure';

export const FAKE_CLOUD = {
  region: 'eu-central-1',
  s3Bucket: 'kbc-fake-files',
  accessKeyId: 'ASIAFAKEKEYID0000000',
  secretAccessKey: 'fake-secret-access-key-0123456789',
  sessionToken: 'fake-session-token-0123456789',
  gcsBucket: 'kbc-fake-gcs',
  gcsToken: 'ya29.fake-gcs-access-token',
  blobHost: 'kbcfake.blob.core.windows.net',
  container: 'exp-2-fake',
  sas: 'sv=2022-11-02&sr=c&sp=rl&sig=fakeSasSignature0123',
} as const;

export interface FakeRow {
  values: (string | null)[];
  /** Milliseconds since the epoch the row last changed. */
  changed: number;
}

export interface FakeTable {
  bucket: string;
  name: string;
  columns: string[];
  primaryKey: string[];
  /** Column → Keboola base type (`INTEGER`, `DATE`…); provider `user`. */
  types: Record<string, string>;
  rows: FakeRow[];
  /** Pre-made gzipped slices served instead of `rows` (benchmarks). */
  sliceFiles?: string[];
  rowsCount?: number;
}

export interface Fault {
  /** Matched against method + path, e.g. `GET /v2/storage/jobs/`. */
  match: RegExp;
  status?: number;
  retryAfter?: string;
  /** Answer after this many milliseconds. */
  delayMs?: number;
  /** Send half the body, then drop the connection. */
  truncate?: boolean;
  /** How many requests it hits; Infinity for all. */
  times: number;
  /** An export job that ends in `error` with this message. */
  jobError?: string;
}

export interface LoggedRequest {
  method: string;
  path: string;
  token: string | null;
  /** An object-store request the fake refused for its credentials (signature, token or SAS). */
  refused?: boolean;
}

interface Job {
  id: number;
  table: string;
  polls: number;
  createdTime: string;
  changedSince: number | null;
  error: string | null;
  fileId?: number;
}

const csvValue = (v: string | null) => (v === null ? '' : `"${v.replaceAll('"', '""')}"`);

export class FakeKeboola {
  readonly token: string;
  readonly tables = new Map<string, FakeTable>();
  readonly requests: LoggedRequest[] = [];
  readonly faults: Fault[] = [];
  /** Rows per slice of an export. */
  sliceRows = 2;
  /** Polls a job answers `processing` before it ends. */
  jobPolls = 1;
  /** Where exported files live: the stack itself or a cloud provider's object store. */
  storage: FakeStorage = 'stack';
  /** The S3 secret the object store checks signatures with (rotate it to refuse the file's). */
  s3Secret: string = FAKE_CLOUD.secretAccessKey;
  /** Replaces the first manifest entry (a payload URL pointing elsewhere). */
  foreignSliceUrl: string | null = null;
  #server: Server;
  #jobs = new Map<number, Job>();
  #files = new Map<number, Buffer[] | string[]>();
  #nextId = 100;
  url = '';

  private constructor(token: string) {
    this.token = token;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
  }

  static async start(token = 'kbc-test-token-0123456789'): Promise<FakeKeboola> {
    const fake = new FakeKeboola(token);
    await new Promise<void>((done) => fake.#server.listen(0, '127.0.0.1', done));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  /** The client's object-store endpoints for this fake's `/s3`, `/gcs` and `/azure` routes. */
  get objectStores(): { s3: string; gcs: string; azure: string } {
    return { s3: `${this.url}/s3`, gcs: `${this.url}/gcs`, azure: `${this.url}/azure` };
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }

  addTable(table: Omit<FakeTable, 'rows' | 'types' | 'primaryKey'> & Partial<FakeTable>): FakeTable {
    const full: FakeTable = { rows: [], types: {}, primaryKey: [], ...table };
    this.tables.set(`${table.bucket}.${table.name}`, full);
    return full;
  }

  /** Inserts or replaces rows by primary key, stamped with the current time. */
  upsert(tableId: string, rows: (string | null)[][], changed = Date.now()): void {
    const table = this.tables.get(tableId);
    if (!table) throw new Error(`no table ${tableId}`);
    const keyOf = (values: (string | null)[]) =>
      JSON.stringify(table.primaryKey.map((k) => values[table.columns.indexOf(k)]));
    for (const values of rows) {
      const at = table.rows.findIndex(
        (r) => table.primaryKey.length > 0 && keyOf(r.values) === keyOf(values),
      );
      if (at >= 0) table.rows[at] = { values, changed };
      else table.rows.push({ values, changed });
    }
  }

  inject(fault: Partial<Fault> & { match: RegExp }): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** Requests to an API path (query string removed). */
  count(pattern: RegExp): number {
    return this.requests.filter((r) => pattern.test(`${r.method} ${r.path}`)).length;
  }

  #fault(method: string, path: string): Fault | null {
    const fault = this.faults.find((f) => f.times > 0 && f.match.test(`${method} ${path}`));
    if (!fault) return null;
    fault.times -= 1;
    return fault;
  }

  #describe(id: string, table: FakeTable) {
    return {
      id,
      name: table.name,
      bucket: { id: table.bucket, name: table.bucket.replace(/^(in|out)\.c-/, '') },
      columns: table.columns,
      primaryKey: table.primaryKey,
      rowsCount: table.rowsCount ?? table.rows.length,
      dataSizeBytes: 1024 * (table.rowsCount ?? table.rows.length),
      lastImportDate: new Date(Math.max(0, ...table.rows.map((r) => r.changed))).toISOString(),
      lastChangeDate: new Date(Math.max(0, ...table.rows.map((r) => r.changed))).toISOString(),
      columnMetadata: Object.fromEntries(
        Object.entries(table.types).map(([column, type]) => [
          column,
          [
            { key: 'KBC.datatype.basetype', value: 'STRING', provider: 'keboola.snowflake' },
            { key: 'KBC.datatype.basetype', value: type, provider: 'user' },
          ],
        ]),
      ),
    };
  }

  #sliceUrl(fileId: number, slice: number): string {
    const key = `exp/${fileId}/slice-${slice}.csv.gz`;
    if (this.storage === 'aws') return `s3://${FAKE_CLOUD.s3Bucket}/${key}`;
    if (this.storage === 'gcp') return `gs://${FAKE_CLOUD.gcsBucket}/${key}`;
    if (this.storage === 'azure') return `azure://${FAKE_CLOUD.blobHost}/${FAKE_CLOUD.container}/${key}`;
    return `${this.url}/_files/${fileId}/slice-${slice}.csv.gz`;
  }

  /** `GET /v2/storage/files/{id}?federationToken=1` as each provider's stack answers it. */
  #fileDetail(id: number) {
    const base = { id, isSliced: true, url: `${this.url}/_files/${id}/manifest` };
    const key = `exp/${id}/manifest`;
    if (this.storage === 'gcp')
      return {
        ...base,
        provider: 'gcp',
        gcsCredentials: { access_token: FAKE_CLOUD.gcsToken, expires_in: 3600, token_type: 'Bearer' },
        gcsPath: { bucket: FAKE_CLOUD.gcsBucket, key },
      };
    if (this.storage === 'azure')
      return {
        ...base,
        provider: 'azure',
        absCredentials: {
          SASConnectionString: `BlobEndpoint=https://${FAKE_CLOUD.blobHost};SharedAccessSignature=${FAKE_CLOUD.sas}`,
          expiration: new Date(Date.now() + 3_600_000).toISOString(),
        },
        absPath: { container: FAKE_CLOUD.container, name: key },
      };
    return {
      ...base,
      provider: 'aws',
      region: FAKE_CLOUD.region,
      ...(this.storage === 'aws'
        ? {
            credentials: {
              AccessKeyId: FAKE_CLOUD.accessKeyId,
              SecretAccessKey: FAKE_CLOUD.secretAccessKey,
              SessionToken: FAKE_CLOUD.sessionToken,
            },
            s3Path: { bucket: FAKE_CLOUD.s3Bucket, key },
          }
        : {}),
    };
  }

  /**
   * S3: the request's SigV4 signature is recomputed from the fake's secret at the request's own
   * `x-amz-date` and must match, with the session token; GCS: the bearer token; Azure: the SAS.
   */
  async #cloudAuthorised(req: IncomingMessage, url: URL, store: string): Promise<boolean> {
    if (req.headers['x-storageapi-token'] !== undefined) return false;
    if (store === 'gcs') return req.headers.authorization === `Bearer ${FAKE_CLOUD.gcsToken}`;
    if (store === 'azure') return url.search === `?${FAKE_CLOUD.sas}`;
    const date = req.headers['x-amz-date'];
    const given = req.headers.authorization;
    if (typeof date !== 'string' || typeof given !== 'string') return false;
    if (req.headers['x-amz-security-token'] !== FAKE_CLOUD.sessionToken) return false;
    const expected = await new AwsClient({
      accessKeyId: FAKE_CLOUD.accessKeyId,
      secretAccessKey: this.s3Secret,
      sessionToken: FAKE_CLOUD.sessionToken,
      service: 's3',
      region: FAKE_CLOUD.region,
    }).sign(url.href, { method: 'GET', aws: { datetime: date } });
    return expected.headers.get('authorization') === given;
  }

  #json(res: ServerResponse, status: number, body: unknown, fault: Fault | null): void {
    const text = Buffer.from(JSON.stringify(body));
    this.#send(res, status, text, 'application/json', fault);
  }

  #send(res: ServerResponse, status: number, body: Buffer, type: string, fault: Fault | null): void {
    res.writeHead(status, { 'content-type': type, 'content-length': body.length });
    if (fault?.truncate) {
      res.write(body.subarray(0, Math.floor(body.length / 2)));
      res.socket?.destroy();
      return;
    }
    res.end(body);
  }

  #exportFile(job: Job): number {
    const table = this.tables.get(job.table);
    if (!table) throw new Error('table vanished');
    const fileId = this.#nextId++;
    if (table.sliceFiles) {
      this.#files.set(fileId, table.sliceFiles);
      return fileId;
    }
    const rows = table.rows.filter((r) => job.changedSince === null || r.changed >= job.changedSince * 1000);
    const slices: Buffer[] = [];
    for (let i = 0; i < rows.length; i += this.sliceRows) {
      const text = rows
        .slice(i, i + this.sliceRows)
        .map((r) => `${r.values.map(csvValue).join(',')}\n`)
        .join('');
      slices.push(gzipSync(text));
    }
    this.#files.set(fileId, slices);
    return fileId;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const token = req.headers['x-storageapi-token'];
    this.requests.push({ method, path, token: typeof token === 'string' ? token : null });
    const fault = this.#fault(method, path);
    if (fault?.delayMs) await new Promise((done) => setTimeout(done, fault.delayMs));
    if (fault?.status) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers).end(JSON.stringify({ error: 'injected', code: fault.status }));
      return;
    }

    // File storage: signed URLs, no token (the client must not send it there).
    const cloud = /^\/(s3|gcs|azure)\/[^/]+\/exp\/(\d+)\/(slice-(\d+)\.csv\.gz)$/.exec(path);
    if (cloud && !(await this.#cloudAuthorised(req, url, cloud[1] as string))) {
      const logged = this.requests.at(-1);
      if (logged) logged.refused = true;
      return void res.writeHead(403).end('<Error><Code>AccessDenied</Code></Error>');
    }
    const file = cloud
      ? ([path, cloud[2], cloud[3], cloud[4]] as const)
      : /^\/_files\/(\d+)\/(manifest|slice-(\d+)\.csv\.gz)$/.exec(path);
    if (file) {
      const slices = this.#files.get(Number(file[1]));
      if (!slices) return void res.writeHead(404).end();
      if (file[2] === 'manifest') {
        const entries = slices.map((_, i) => ({ url: this.#sliceUrl(Number(file[1]), i) }));
        if (this.foreignSliceUrl && entries[0]) entries[0].url = this.foreignSliceUrl;
        return this.#json(res, 200, { entries }, fault);
      }
      const slice = slices[Number(file[3])];
      if (slice === undefined) return void res.writeHead(404).end();
      if (typeof slice === 'string') {
        res.writeHead(200, {
          'content-type': 'application/gzip',
          'content-length': (await stat(slice)).size,
        });
        createReadStream(slice).pipe(res);
        return;
      }
      return this.#send(res, 200, slice, 'application/gzip', fault);
    }

    if (!path.startsWith('/v2/storage/')) return void res.writeHead(404).end();
    if (token !== this.token) return this.#json(res, 401, { error: 'Invalid access token', code: 401 }, null);

    if (method === 'GET' && path === '/v2/storage/tables') {
      return this.#json(
        res,
        200,
        [...this.tables].map(([id, t]) => this.#describe(id, t)),
        fault,
      );
    }
    const detail = /^\/v2\/storage\/tables\/([^/]+)$/.exec(path);
    if (method === 'GET' && detail) {
      const id = decodeURIComponent(detail[1] ?? '');
      const table = this.tables.get(id);
      if (!table) return this.#json(res, 404, { error: `The table "${id}" was not found` }, null);
      return this.#json(res, 200, this.#describe(id, table), fault);
    }
    const exportAsync = /^\/v2\/storage\/tables\/([^/]+)\/export-async$/.exec(path);
    if (method === 'POST' && exportAsync) {
      const id = decodeURIComponent(exportAsync[1] ?? '');
      if (!this.tables.has(id)) return this.#json(res, 404, { error: 'not found' }, null);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const since = form.get('changedSince');
      const job: Job = {
        id: this.#nextId++,
        table: id,
        polls: 0,
        createdTime: new Date().toISOString().replace('Z', '+0000'),
        changedSince: since === null ? null : Number(since),
        error: fault?.jobError ?? null,
      };
      this.#jobs.set(job.id, job);
      return this.#json(res, 202, { id: job.id, status: 'waiting', createdTime: job.createdTime }, null);
    }
    const jobPath = /^\/v2\/storage\/jobs\/(\d+)$/.exec(path);
    if (method === 'GET' && jobPath) {
      const job = this.#jobs.get(Number(jobPath[1]));
      if (!job) return this.#json(res, 404, { error: 'no such job' }, null);
      job.polls += 1;
      const base = { id: job.id, createdTime: job.createdTime, tableId: job.table };
      if (job.polls <= this.jobPolls) return this.#json(res, 200, { ...base, status: 'processing' }, fault);
      if (job.error)
        return this.#json(res, 200, { ...base, status: 'error', error: { message: job.error } }, fault);
      job.fileId ??= this.#exportFile(job);
      const fileId = job.fileId;
      return this.#json(res, 200, { ...base, status: 'success', results: { file: { id: fileId } } }, fault);
    }
    const fileInfo = /^\/v2\/storage\/files\/(\d+)$/.exec(path);
    if (method === 'GET' && fileInfo) {
      const id = Number(fileInfo[1]);
      if (!this.#files.has(id)) return this.#json(res, 404, { error: 'no such file' }, null);
      return this.#json(res, 200, this.#fileDetail(id), fault);
    }
    this.#json(res, 404, { error: 'unknown endpoint' }, null);
  }
}

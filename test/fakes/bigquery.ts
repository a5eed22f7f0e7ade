import { generateKeyPairSync, type KeyObject, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { jwtVerify } from 'jose';

/**
 * A fake BigQuery REST API v2 and Google token endpoint (07 §4 BigQuery) on 127.0.0.1: datasets
 * and tables with schemas in memory, `pageToken` paging, a token endpoint that verifies the RS256
 * assertion against the test key (signature, issuer, audience, scope), bearer checks, 404 for
 * unknown tables, and injectable faults. The service-account key is generated per fake, never
 * stored in the repository. Every request is logged.
 */

export interface FakeField {
  name: string;
  type: string;
  mode?: string;
  fields?: FakeField[];
}

export interface FakeBqTable {
  type: 'TABLE' | 'VIEW' | 'MATERIALIZED_VIEW';
  fields: FakeField[];
  numRows: number;
  numBytes: number;
  lastModified: number;
  description?: string;
}

export interface BqFault {
  /** Matched against method + path, e.g. `GET /bigquery/v2/projects/p/datasets`. */
  match: RegExp;
  status?: number;
  retryAfter?: string;
  delayMs?: number;
  /** Send half the body, then drop the connection. */
  truncate?: boolean;
  times: number;
}

export interface LoggedBqRequest {
  method: string;
  path: string;
  authorization: string | null;
}

export const SCOPE = 'https://www.googleapis.com/auth/bigquery.readonly';

function rsaKeyPair(): { privatePem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
}

export class FakeBigQuery {
  readonly project: string;
  readonly clientEmail = 'agnes-test@fake-project.iam.gserviceaccount.com';
  readonly datasets = new Map<string, Map<string, FakeBqTable>>();
  readonly requests: LoggedBqRequest[] = [];
  readonly faults: BqFault[] = [];
  readonly issuedTokens: string[] = [];
  /** Items per list page, small so tests cross page boundaries. */
  pageSize = 2;
  url = '';
  readonly #privatePem: string;
  readonly #publicKey: KeyObject;
  readonly #server: Server;

  private constructor(project: string) {
    this.project = project;
    ({ privatePem: this.#privatePem, publicKey: this.#publicKey } = rsaKeyPair());
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
  }

  static async start(project = 'fake-project'): Promise<FakeBigQuery> {
    const fake = new FakeBigQuery(project);
    await new Promise<void>((done) => fake.#server.listen(0, '127.0.0.1', done));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }

  get tokenUri(): string {
    return `${this.url}/token`;
  }

  /** The private key the fake trusts, as PEM, so tests can check it never leaks. */
  get privateKeyPem(): string {
    return this.#privatePem;
  }

  /** Writes a service-account key file; `wrongKey` signs with a key the fake does not trust. */
  async writeKeyFile(dir: string, options: { wrongKey?: boolean } = {}): Promise<string> {
    const path = join(dir, options.wrongKey ? 'wrong-key.json' : 'service-account.json');
    const key = {
      type: 'service_account',
      project_id: this.project,
      private_key_id: 'test-key-1',
      private_key: options.wrongKey ? rsaKeyPair().privatePem : this.#privatePem,
      client_email: this.clientEmail,
      token_uri: this.tokenUri,
    };
    await writeFile(path, JSON.stringify(key), { mode: 0o600 });
    return path;
  }

  addTable(dataset: string, name: string, table: Partial<FakeBqTable> & Pick<FakeBqTable, 'fields'>): void {
    const tables = this.datasets.get(dataset) ?? new Map<string, FakeBqTable>();
    this.datasets.set(dataset, tables);
    tables.set(name, {
      type: 'TABLE',
      numRows: 0,
      numBytes: 0,
      lastModified: Date.UTC(2026, 0, 2),
      ...table,
    });
  }

  inject(fault: Partial<BqFault> & { match: RegExp }): void {
    this.faults.push({ times: 1, ...fault });
  }

  count(pattern: RegExp): number {
    return this.requests.filter((r) => pattern.test(`${r.method} ${r.path}`)).length;
  }

  #fault(method: string, path: string): BqFault | null {
    const fault = this.faults.find((f) => f.times > 0 && f.match.test(`${method} ${path}`));
    if (!fault) return null;
    fault.times -= 1;
    return fault;
  }

  #json(res: ServerResponse, status: number, body: unknown, fault: BqFault | null = null): void {
    const text = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': text.length });
    if (fault?.truncate) {
      // Cut only after the headers and half the body are on the wire, so the client sees a broken body, not a reset.
      res.write(text.subarray(0, Math.floor(text.length / 2)), () => res.socket?.destroy());
      return;
    }
    res.end(text);
  }

  #page<T>(items: T[], url: URL): { items: T[]; nextPageToken?: string } {
    const start = Number(url.searchParams.get('pageToken') ?? '0');
    const end = start + this.pageSize;
    return end < items.length
      ? { items: items.slice(start, end), nextPageToken: String(end) }
      : { items: items.slice(start) };
  }

  async #token(req: IncomingMessage, res: ServerResponse, fault: BqFault | null): Promise<void> {
    let text = '';
    for await (const chunk of req) text += chunk;
    const form = new URLSearchParams(text);
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer')
      return this.#json(res, 400, { error: 'unsupported_grant_type' });
    try {
      const { payload } = await jwtVerify(form.get('assertion') ?? '', this.#publicKey, {
        algorithms: ['RS256'],
        issuer: this.clientEmail,
        audience: this.tokenUri,
      });
      if (payload.scope !== SCOPE) throw new Error('scope');
    } catch {
      return this.#json(res, 401, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
    }
    const token = `ya29.fake-${randomBytes(16).toString('hex')}`;
    this.issuedTokens.push(token);
    this.#json(res, 200, { access_token: token, expires_in: 3599, token_type: 'Bearer' }, fault);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const authorization = req.headers.authorization ?? null;
    this.requests.push({ method, path, authorization });
    const fault = this.#fault(method, path);
    if (fault?.delayMs) await new Promise((done) => setTimeout(done, fault.delayMs));
    if (fault?.status) {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers).end(JSON.stringify({ error: { code: fault.status } }));
      return;
    }
    if (method === 'POST' && path === '/token') return this.#token(req, res, fault);

    const prefix = `/bigquery/v2/projects/${this.project}/datasets`;
    if (method !== 'GET' || !path.startsWith(prefix)) return this.#json(res, 404, { error: { code: 404 } });
    const bearer = authorization?.replace(/^Bearer /, '') ?? '';
    if (!this.issuedTokens.includes(bearer))
      return this.#json(res, 401, {
        error: { code: 401, message: 'Request had invalid authentication credentials.' },
      });

    const parts = path.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
    if (parts.length === 0) {
      const { items, nextPageToken } = this.#page([...this.datasets.keys()], url);
      const datasets = items.map((datasetId) => ({
        kind: 'bigquery#dataset',
        id: `${this.project}:${datasetId}`,
        datasetReference: { projectId: this.project, datasetId },
      }));
      return this.#json(res, 200, { kind: 'bigquery#datasetList', datasets, nextPageToken }, fault);
    }
    const tables = this.datasets.get(parts[0] ?? '');
    if (!tables || parts[1] !== 'tables' || parts.length > 3)
      return this.#json(res, 404, { error: { code: 404 } });
    const reference = (tableId: string) => ({ projectId: this.project, datasetId: parts[0], tableId });
    if (parts.length === 2) {
      const { items, nextPageToken } = this.#page([...tables.entries()], url);
      const list = items.map(([tableId, t]) => ({
        kind: 'bigquery#table',
        tableReference: reference(tableId),
        type: t.type,
      }));
      return this.#json(
        res,
        200,
        { kind: 'bigquery#tableList', tables: list, nextPageToken, totalItems: tables.size },
        fault,
      );
    }
    const table = tables.get(parts[2] ?? '');
    if (!table) return this.#json(res, 404, { error: { code: 404, message: 'Not found: Table' } }, fault);
    return this.#json(
      res,
      200,
      {
        kind: 'bigquery#table',
        tableReference: reference(parts[2] ?? ''),
        type: table.type,
        schema: { fields: table.fields },
        numRows: String(table.numRows),
        numBytes: String(table.numBytes),
        lastModifiedTime: String(table.lastModified),
        ...(table.description ? { description: table.description } : {}),
      },
      fault,
    );
  }
}

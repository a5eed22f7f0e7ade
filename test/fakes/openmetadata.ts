import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake OpenMetadata REST API (07 §6) on 127.0.0.1: tables by FQN (`/api/v1/tables/name/{fqn}`,
 * the FQN percent-encoded as one segment), metrics paged by an opaque `paging.after` cursor, the
 * metric search index paged by `from`/`size`, a bearer-token check (401), and injectable 500s,
 * delays and cut bodies. Every request is logged with its raw path, as it arrived on the wire.
 */

export type Entity = Record<string, unknown>;

export interface Fault {
  /** Matched against `METHOD raw-path` (query included). */
  match: RegExp;
  status?: number;
  /** Answer after this many milliseconds. */
  delayMs?: number;
  /** Send half the body, then drop the connection. */
  truncate?: boolean;
  /** How many requests it hits; Infinity for all. */
  times: number;
}

export interface LoggedRequest {
  method: string;
  /** The request target exactly as sent: path and query, still percent-encoded. */
  raw: string;
  /** The path without the query, still percent-encoded. */
  path: string;
  query: URLSearchParams;
  authorization: string | null;
}

export class FakeOpenMetadata {
  readonly token: string;
  /** Tables by their FQN (decoded). */
  readonly tables = new Map<string, Entity>();
  readonly metrics: Entity[] = [];
  readonly requests: LoggedRequest[] = [];
  readonly faults: Fault[] = [];
  /** Largest page the metrics list answers with, whatever `limit` asks (to test paging with few metrics). */
  metricsPageSize = 100;
  /** Largest page the search answers with. */
  searchPageSize = 100;
  url = '';
  #server: Server;

  private constructor(token: string) {
    this.token = token;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      });
    });
  }

  static async start(token = 'om-test-token-0123456789'): Promise<FakeOpenMetadata> {
    const fake = new FakeOpenMetadata(token);
    await new Promise<void>((done) => fake.#server.listen(0, '127.0.0.1', done));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }

  addTable(fqn: string, table: Entity = {}): Entity {
    const name = fqn.split('.').at(-1) ?? fqn;
    const full = { id: `t-${this.tables.size + 1}`, name, fullyQualifiedName: fqn, columns: [], ...table };
    this.tables.set(fqn, full);
    return full;
  }

  addMetric(metric: Entity): Entity {
    const full = { id: `m-${this.metrics.length + 1}`, fullyQualifiedName: metric.name, ...metric };
    this.metrics.push(full);
    return full;
  }

  inject(fault: Partial<Fault> & { match: RegExp }): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** Requests whose `METHOD raw-path` matches. */
  count(pattern: RegExp): number {
    return this.requests.filter((r) => pattern.test(`${r.method} ${r.raw}`)).length;
  }

  #fault(line: string): Fault | null {
    const fault = this.faults.find((f) => f.times > 0 && f.match.test(line));
    if (!fault) return null;
    fault.times -= 1;
    return fault;
  }

  #reply(res: ServerResponse, status: number, body: unknown, fault: Fault | null): void {
    const text = Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': text.length });
    if (fault?.truncate) {
      res.write(text.subarray(0, Math.floor(text.length / 2)));
      res.socket?.destroy();
      return;
    }
    res.end(text);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const method = req.method ?? 'GET';
    const [path = '/', search = ''] = raw.split(/\?(.*)/s);
    const query = new URLSearchParams(search);
    this.requests.push({ method, raw, path, query, authorization: req.headers.authorization ?? null });

    const fault = this.#fault(`${method} ${raw}`);
    if (fault?.delayMs) await new Promise((done) => setTimeout(done, fault.delayMs));
    if (fault?.status)
      return this.#reply(res, fault.status, { code: fault.status, message: 'injected' }, null);
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return this.#reply(res, 401, { code: 401, message: 'Not Authorized! Token not present' }, null);
    if (method !== 'GET') return this.#reply(res, 405, { code: 405, message: 'method not allowed' }, null);

    const tablePrefix = '/api/v1/tables/name/';
    if (path.startsWith(tablePrefix)) {
      const segment = path.slice(tablePrefix.length);
      // One segment: an unencoded `/` would make this a different path on the real server.
      if (segment.includes('/')) return this.#reply(res, 404, { code: 404, message: 'no such path' }, fault);
      const fqn = decodeURIComponent(segment);
      const table = this.tables.get(fqn);
      if (!table)
        return this.#reply(res, 404, { code: 404, message: `table instance for ${fqn} not found` }, fault);
      return this.#reply(res, 200, table, fault);
    }
    if (path === '/api/v1/metrics') {
      const limit = Math.min(Number(query.get('limit') ?? 10), this.metricsPageSize);
      const after = query.get('after');
      const start = after === null ? 0 : Number(Buffer.from(after, 'base64url').toString('utf8'));
      const data = this.metrics.slice(start, start + limit);
      const end = start + data.length;
      const paging: Record<string, unknown> = { total: this.metrics.length };
      if (end < this.metrics.length) paging.after = Buffer.from(String(end)).toString('base64url');
      return this.#reply(res, 200, { data, paging }, fault);
    }
    if (path === '/api/v1/search/query' && query.get('index') === 'metric_search_index') {
      const from = Number(query.get('from') ?? 0);
      const size = Math.min(Number(query.get('size') ?? 10), this.searchPageSize);
      const hits = this.metrics.slice(from, from + size).map((metric) => ({
        _index: 'metric_search_index',
        _id: metric.id,
        _source: metric,
      }));
      return this.#reply(
        res,
        200,
        { hits: { total: { value: this.metrics.length, relation: 'eq' }, hits } },
        fault,
      );
    }
    return this.#reply(res, 404, { code: 404, message: 'no such path' }, fault);
  }
}

import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The plumbing every fake HTTP service shares: a real `node:http` server on 127.0.0.1 at a free
 * port, each request logged with its headers and parsed JSON body, and helpers for JSON replies,
 * slow replies and dropped connections. A fake supplies only its handler.
 */

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string's parameters. */
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, the raw text when it is not JSON, or null when empty. */
  body: unknown;
}

export type FakeHandler = (request: RecordedRequest, res: ServerResponse) => Promise<void> | void;

export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  url = '';
  readonly #server: Server;

  private constructor(handler: FakeHandler) {
    this.#server = createServer(async (req, res) => {
      try {
        const chunks: Buffer[] = [];
        for await (const chunk of req) chunks.push(chunk as Buffer);
        const request: RecordedRequest = {
          method: req.method ?? 'GET',
          path: new URL(req.url ?? '/', 'http://fake').pathname,
          query: new URL(req.url ?? '/', 'http://fake').searchParams,
          headers: req.headers,
          body: parseBody(Buffer.concat(chunks).toString('utf8')),
        };
        this.requests.push(request);
        await handler(request, res);
      } catch (error) {
        if (!res.headersSent) res.writeHead(500).end(String(error));
      }
    });
  }

  static async start(handler: FakeHandler): Promise<FakeHttpServer> {
    const fake = new FakeHttpServer(handler);
    await new Promise<void>((done) => fake.#server.listen(0, '127.0.0.1', done));
    fake.url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }
}

function parseBody(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': text.length, ...headers });
  res.end(text);
}

/** A 200 that claims JSON but is cut off mid-object, as a broken proxy might send. */
export function sendMalformedJson(res: ServerResponse): void {
  const text = '{"id": "broken", "content": [';
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length });
  res.end(text);
}

/** Closes the connection without any answer. */
export function dropConnection(res: ServerResponse): void {
  res.socket?.destroy();
}

export function wait(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

/** The header's value, or null; repeated headers are not expected by these fakes. */
export function header(request: RecordedRequest, name: string): string | null {
  const value = request.headers[name.toLowerCase()];
  return typeof value === 'string' ? value : null;
}

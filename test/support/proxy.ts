import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does to one matching response instead of passing it through unchanged. */
export type Fault =
  /** Answer with this status and a JSON error body; the real server is not asked. */
  | { kind: 'status'; status: number; code?: string; detail?: string; headers?: Record<string, string> }
  /** Flip one byte in the middle of the body (same length: only a hash check can notice). */
  | { kind: 'corrupt' }
  /** Send the first `afterBytes` of the body, then close the connection. */
  | { kind: 'cut'; afterBytes: number }
  /** Send the first `afterBytes` of the body, call `reached`, then hold the connection open. */
  | { kind: 'pause'; afterBytes: number; reached: () => void }
  /** Replace the whole body (the server's answer is read in full first). */
  | { kind: 'rewrite'; body: (original: Buffer) => Buffer };

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
  range: string | null;
  /** Response body bytes written to the client. */
  bodyBytes: number;
}

export interface CountingProxy {
  url: string;
  /** Every finished request, in order. */
  requests: ProxiedRequest[];
  /** Applies `fault` to the next `times` requests whose path (without query) matches. */
  fault(match: RegExp, fault: Fault, times?: number): void;
  /** Body bytes served for requests whose path matches. */
  bytes(match: RegExp): number;
  reset(): void;
  close(): Promise<void>;
}

interface Rule {
  match: RegExp;
  fault: Fault;
  left: number;
}

function takeFault(rules: Rule[], path: string): Fault | null {
  const rule = rules.find((r) => r.left > 0 && r.match.test(path));
  if (!rule) return null;
  rule.left -= 1;
  return rule.fault;
}

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A real HTTP reverse proxy on 127.0.0.1 in front of a test server: counts the body bytes it
 * serves per request (how tests prove what `da` downloaded) and injects faults into chosen
 * responses (errors, corruption, a cut or stalled connection).
 */
export async function startProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  const rules: Rule[] = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const entry: ProxiedRequest = {
      method: req.method ?? 'GET',
      path,
      status: 0,
      range: (req.headers.range as string | undefined) ?? null,
      bodyBytes: 0,
    };
    const fault = takeFault(rules, path);
    if (fault?.kind === 'status') {
      await readAll(req);
      const body = JSON.stringify({ code: fault.code ?? 'proxy_fault', detail: fault.detail ?? 'injected' });
      res.writeHead(fault.status, {
        ...fault.headers,
        'content-type': 'application/json',
        'content-length': body.length,
      });
      res.end(body);
      entry.status = fault.status;
      entry.bodyBytes = body.length;
      requests.push(entry);
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    // A body to rewrite must be a full one, never a 304.
    if (fault?.kind === 'rewrite') delete headers['if-none-match'];
    const proxied = httpRequest({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers,
    });
    req.pipe(proxied);
    const [response] = (await once(proxied, 'response')) as [IncomingMessage];
    entry.status = response.statusCode ?? 0;
    const outHeaders = { ...response.headers };
    if (fault?.kind === 'rewrite') {
      const body = fault.body(await readAll(response));
      outHeaders['content-length'] = String(body.length);
      delete outHeaders.etag;
      res.writeHead(entry.status, outHeaders);
      res.end(body);
      entry.bodyBytes = body.length;
      requests.push(entry);
      return;
    }
    res.writeHead(entry.status, outHeaders);
    const total = Number(response.headers['content-length'] ?? 0);
    const middle = Math.floor(total / 2);
    let sent = 0;
    for await (const raw of response) {
      let chunk = raw as Buffer;
      if (fault?.kind === 'corrupt' && sent <= middle && middle < sent + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[middle - sent] = (chunk[middle - sent]! + 1) & 0xff;
      }
      if ((fault?.kind === 'cut' || fault?.kind === 'pause') && sent + chunk.length >= fault.afterBytes) {
        const head = chunk.subarray(0, fault.afterBytes - sent);
        entry.bodyBytes += head.length;
        requests.push(entry);
        await new Promise<void>((resolve) => res.write(head, () => resolve()));
        response.destroy();
        if (fault.kind === 'cut') res.socket?.end();
        else fault.reached();
        return;
      }
      sent += chunk.length;
      entry.bodyBytes += chunk.length;
      if (!res.write(chunk)) await once(res, 'drain');
    }
    res.end();
    requests.push(entry);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    fault(match, fault, times = 1) {
      rules.push({ match, fault, left: times });
    },
    bytes(match) {
      return requests.filter((r) => match.test(r.path)).reduce((sum, r) => sum + r.bodyBytes, 0);
    },
    reset() {
      requests.length = 0;
      rules.length = 0;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Value } from '@sinclair/typebox/value';
import { type WsDispatchBody, WsDispatchBodySchema } from '../../contract/index.js';

/** `/dispatch` bodies are at most 64 KiB (08 §9). */
export const MAX_DISPATCH_BYTES = 64 * 1024;

export interface DispatchTarget {
  dispatch(body: WsDispatchBody): number;
  counts(): { connections: number; users: number };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Constant-time comparison of the `Authorization: Bearer` value with the dispatch token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (\S+)$/.exec(header ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(given), digest(token));
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/** The body, or null once it passes the cap (the rest is not read). */
async function readCapped(request: IncomingMessage, cap: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > cap) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/**
 * The gateway's dispatch endpoint (08 §3, §9): `POST /dispatch` with the dispatch token fans one
 * notification out to the named users' sockets; `GET /health` gives counts, never identities.
 */
export function dispatchHandler(target: DispatchTarget, token: string) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/health') {
      if (request.method !== 'GET' && request.method !== 'HEAD')
        return reply(response, 405, { error: 'method_not_allowed' });
      return reply(response, 200, { status: 'ok', ...target.counts() });
    }
    if (path !== '/dispatch') return reply(response, 404, { error: 'not_found' });
    if (request.method !== 'POST') return reply(response, 405, { error: 'method_not_allowed' });
    if (!bearerMatches(request.headers.authorization, token))
      return reply(response, 401, { error: 'unauthorized' });
    const declared = Number(request.headers['content-length'] ?? 0);
    if (declared > MAX_DISPATCH_BYTES) return closing(response, 413);
    const raw = await readCapped(request, MAX_DISPATCH_BYTES);
    if (raw === null) return closing(response, 413);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return reply(response, 400, { error: 'invalid_json' });
    }
    if (!Value.Check(WsDispatchBodySchema, body)) return reply(response, 400, { error: 'invalid_body' });
    return reply(response, 200, { sent: target.dispatch(body) });
  };
}

/** 413 without reading the rest: the connection closes after the answer. */
function closing(response: ServerResponse, status: number): void {
  response.setHeader('connection', 'close');
  reply(response, status, { error: 'payload_too_large' });
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Value } from '@sinclair/typebox/value';
import { type WsDispatchBody, WsDispatchBodySchema } from '../../contract/index.js';
import { bearerMatches, readCapped, replyJson as reply } from '../dispatch-endpoint.js';

/** `/dispatch` bodies are at most 64 KiB (08 §9). */
export const MAX_DISPATCH_BYTES = 64 * 1024;

export interface DispatchTarget {
  dispatch(body: WsDispatchBody): number;
  counts(): { connections: number; users: number };
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

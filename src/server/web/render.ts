import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';

export interface RenderOptions {
  status?: number;
  /** Pages that carry one-time tokens: never cached, never leaked through Referer. */
  sensitive?: boolean;
}

const nonces = new WeakMap<FastifyReply, string>();

/** The page's style nonce; the same value goes into its CSP header when it is sent. */
export function styleNonce(reply: FastifyReply): string {
  let nonce = nonces.get(reply);
  if (!nonce) {
    nonce = randomBytes(16).toString('base64');
    nonces.set(reply, nonce);
  }
  return nonce;
}

/** Sends a server-rendered page; preact escapes every interpolated value. */
export function sendPage(reply: FastifyReply, page: VNode, options: RenderOptions = {}): FastifyReply {
  const nonce = nonces.get(reply);
  const csp = reply.getHeader('content-security-policy');
  if (nonce && typeof csp === 'string') {
    reply.header(
      'Content-Security-Policy',
      csp.replace("style-src 'self'", `style-src 'self' 'nonce-${nonce}'`),
    );
  }
  if (options.sensitive) {
    reply.header('Cache-Control', 'no-store');
    reply.header('Referrer-Policy', 'no-referrer');
  }
  return reply
    .status(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${renderToString(page)}`);
}

import type { FastifyReply } from 'fastify';
import type { VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';

export interface RenderOptions {
  status?: number;
  /** Pages that carry one-time tokens: never cached, never leaked through Referer. */
  sensitive?: boolean;
}

/** Sends a server-rendered page; preact escapes every interpolated value. */
export function sendPage(reply: FastifyReply, page: VNode, options: RenderOptions = {}): FastifyReply {
  if (options.sensitive) {
    reply.header('Cache-Control', 'no-store');
    reply.header('Referrer-Policy', 'no-referrer');
  }
  return reply
    .status(options.status ?? 200)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html>${renderToString(page)}`);
}

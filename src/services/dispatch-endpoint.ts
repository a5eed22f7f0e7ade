import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The HTTP pieces both dispatch endpoints share (the Telegram bot's `/send`, the WebSocket
 * gateway's `/dispatch`, 08 §9): the dispatch token checked in constant time, JSON answers that
 * are never cached, and bodies read only up to their cap.
 */

const digest = (value: string) => createHash('sha256').update(value).digest();

/** Compares digests, so neither the token's length nor its prefix leaks through timing. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (\S+)$/.exec(header ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(given), digest(token));
}

export function replyJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}

/** The body, or null when its declared or actual size passes the cap (the rest is not read). */
export async function readCapped(request: IncomingMessage, cap: number): Promise<Buffer | null> {
  if (Number(request.headers['content-length'] ?? 0) > cap) return null;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > cap) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

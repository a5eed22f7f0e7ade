import type { WsServerMessage } from '../../contract/index.js';

/** Client messages are at most 16 KiB (08 §3); `ws` closes a socket that sends more with 1009. */
export const MAX_CLIENT_MESSAGE_BYTES = 16 * 1024;

export type ClientMessage =
  | { type: 'auth'; token: string }
  | { type: 'pong' }
  | { type: 'invalid'; reason: string };

/** Reads one client message; anything that is not a well-formed `auth` or `pong` is `invalid`. */
export function parseClientMessage(data: string): ClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { type: 'invalid', reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { type: 'invalid', reason: 'not a JSON object' };
  const message = value as Record<string, unknown>;
  if (message.type === 'auth') {
    return typeof message.token === 'string' && message.token.length > 0
      ? { type: 'auth', token: message.token }
      : { type: 'invalid', reason: 'auth needs a token' };
  }
  if (message.type === 'pong') return { type: 'pong' };
  return { type: 'invalid', reason: 'unknown message type' };
}

export function encode(message: WsServerMessage): string {
  return JSON.stringify(message);
}

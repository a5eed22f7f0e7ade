import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ERROR_STATUS, type ErrorCode } from '../core/errors.js';

/**
 * Answers requests that Node's HTTP parser refuses before Fastify sees them (a malformed request
 * line, body bytes after a request without a length, a request that timed out) in the error
 * format of 03 §0.2, with the security headers every response carries, then closes the socket.
 * Fastify's default writes a body of its own shape.
 */
export function clientErrorHandler(headers: Record<string, string>, nextRequestId: () => string) {
  const fixed = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  return (error: Error & { code?: string }, socket: Socket): void => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const code: ErrorCode = timeout ? 'request_timeout' : 'bad_request';
    const status = ERROR_STATUS[code];
    const requestId = nextRequestId();
    const body = JSON.stringify({
      detail: timeout ? 'request timed out' : 'bad request',
      code,
      request_id: requestId,
    });
    if (socket.writable)
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n${fixed}\r\n${body}`,
      );
    socket.destroy(error);
  };
}

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, withServer } from '../support/server.js';

/** Bytes written straight to a socket; resolves with everything the server sent until it closed. */
function rawExchange(server: TestServer, bytes: string): Promise<string> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) }, () => socket.end(bytes));
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('close', () => resolve(received));
    socket.on('error', reject);
  });
}

describe("requests Node's HTTP parser refuses (03 §0.2)", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await withServer();
  });
  afterAll(async () => server.close());

  it('answer 400 in the error format with a request id and the security headers', async () => {
    // A body after a DELETE without Content-Length is parsed as the next request: malformed.
    const cases = [
      'NOT-HTTP AT ALL\r\n\r\n',
      'GET /api/health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'DELETE /api/admin/permissions HTTP/1.1\r\nHost: x\r\n\r\n{"user_id":"x","dataset":"orders"}',
    ];
    for (const bytes of cases) {
      const answer = await rawExchange(server, bytes);
      const last = answer.lastIndexOf('HTTP/1.1 ');
      const [head = '', body = ''] = answer.slice(last).split('\r\n\r\n');
      expect(head.split('\r\n')[0], bytes).toBe('HTTP/1.1 400 Bad Request');
      const parsed = JSON.parse(body);
      expect(parsed).toEqual({ detail: 'bad request', code: 'bad_request', request_id: expect.any(String) });
      expect(head).toContain(`X-Request-Id: ${parsed.request_id}`);
      expect(head.toLowerCase()).toContain('x-content-type-options: nosniff');
    }
  });
});

import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthLabel } from '../../src/server/app.js';
import { rawRequest } from '../server/api/sync-fixtures.js';
import { createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

/**
 * Resource exhaustion (S16): the JSON body limit on every route that takes a body, and a
 * never-ending body that is cut off while streaming without the server holding it in memory.
 * Streamed upload limits are in test/server/api/upload.test.ts.
 */

const MiB = 1024 * 1024;
const BODY_LIMIT = MiB;
/** Labels an admin passes; the service and HMAC routes refuse an admin before reading a body. */
const ADMIN_PASSES: AuthLabel[] = ['anon', 'user', 'analyst+', 'km_admin+', 'admin', 'owner'];
/** Routes with a deliberately raised limit of their own (tested where the route is). */
const RAISED = new Set(['/api/upload/local-md']);

/** A JSON body of exactly `bytes` bytes: `{"sql":"aaaa…"}`. */
function jsonOf(bytes: number): string {
  const frame = '{"sql":""}';
  return `{"sql":"${'a'.repeat(bytes - frame.length)}"}`;
}

/**
 * Streams a chunked JSON body of up to `totalBytes`, 1 MiB at a time with back-pressure, and
 * stops as soon as the server answers.
 */
function streamJson(server: TestServer, path: string, auth: string, totalBytes: number) {
  const url = new URL(server.url);
  const chunk = Buffer.alloc(MiB, 0x61);
  return new Promise<{ status: number; sent: number }>((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      path,
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    });
    req.on('response', (res) => {
      answered = true;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sent }));
    });
    // The server answers 413 and closes; a write racing the close can get a reset that drops the
    // answer before it is read. A reset after bytes were sent is the same refusal (status 0).
    req.on('error', (error) => {
      if (answered) return;
      if (sent > 0) resolve({ status: 0, sent });
      else reject(error);
    });
    const pump = () => {
      while (!answered && sent < totalBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) {
          req.once('drain', pump);
          return;
        }
      }
      if (!answered) req.end('"}');
    };
    req.write('{"sql":"');
    pump();
  });
}

describe('request body limits (S16)', () => {
  let server: TestServer;
  let admin: TestUser;

  beforeAll(async () => {
    server = await withServer({
      config: { auth: { rate_limits: { default: { max: 100_000, window_seconds: 60 } } } },
    });
    admin = await createUser(server.ctx, 'admin');
  });
  afterAll(async () => server.close());

  it('refuses a JSON body one byte over 1 MiB with 413 on every route that takes one', async () => {
    const routes = server.app.agnesRoutes.filter(
      (r) => r.hasBody && ADMIN_PASSES.includes(r.auth) && !RAISED.has(r.url),
    );
    expect(routes.length).toBeGreaterThan(20);
    const body = jsonOf(BODY_LIMIT + 1);
    for (const route of routes) {
      const path = route.url.replace(/:([A-Za-z_]+)/g, 'x').replace('*', 'x/y.yml');
      const response = await rawRequest(server, route.method, path, { authorization: admin.auth }, body);
      expect(response.status, `${route.method} ${route.url}`).toBe(413);
      expect(JSON.parse(response.body.toString()).code).toBe('payload_too_large');
    }
  });

  it('cuts off a 256 MiB chunked JSON body while streaming, with memory flat (R15)', async () => {
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage.rss());
    }, 5);
    let result: { status: number; sent: number };
    try {
      result = await streamJson(server, '/api/query', admin.auth, 256 * MiB);
    } finally {
      clearInterval(sampler);
    }
    expect([0, 413]).toContain(result.status);
    expect(result.sent).toBeLessThan(16 * MiB);
    expect(peak - before).toBeLessThan(48 * MiB);
    const after = await rawRequest(server, 'GET', '/api/health');
    expect(after.status).toBe(200);
  });
});

import { execFile } from 'node:child_process';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/** docker/healthcheck.mjs, the containers' health check, against real HTTP servers on loopback. */

const SCRIPT = fileURLToPath(new URL('../../docker/healthcheck.mjs', import.meta.url));
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

async function serve(handler: RequestListener): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, paths };
}

function check(args: string[], env: Record<string, string> = {}): Promise<{ code: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (error) => resolve({ code: error ? Number(error.code) : 0, ms: Date.now() - started }),
    );
  });
}

const status =
  (code: number): RequestListener =>
  (_req, res) => {
    res.writeHead(code, { 'content-type': 'application/json' }).end('{"status":"x"}');
  };

describe('docker/healthcheck.mjs', () => {
  it('is healthy when the URL answers 200', async () => {
    const { port, paths } = await serve(status(200));
    expect((await check([`http://127.0.0.1:${port}/health`])).code).toBe(0);
    expect(paths).toEqual(['/health']);
  });

  it("asks the app's /api/health on PORT when no URL is given", async () => {
    const { port, paths } = await serve(status(200));
    expect((await check([], { PORT: String(port) })).code).toBe(0);
    expect(paths).toEqual(['/api/health']);
  });

  it('is unhealthy when the app answers 503', async () => {
    const { port } = await serve(status(503));
    expect((await check([`http://127.0.0.1:${port}/api/health`])).code).toBe(1);
  });

  it('is unhealthy when nothing listens', async () => {
    const { port } = await serve(status(200));
    await new Promise((resolve) => servers.pop()?.close(resolve));
    expect((await check([`http://127.0.0.1:${port}/api/health`])).code).toBe(1);
  });

  it('gives up after five seconds on an app that never answers', async () => {
    const { port } = await serve(() => undefined);
    const outcome = await check([`http://127.0.0.1:${port}/api/health`]);
    expect(outcome.code).toBe(1);
    expect(outcome.ms).toBeGreaterThanOrEqual(4_900);
    expect(outcome.ms).toBeLessThan(15_000);
  });
});

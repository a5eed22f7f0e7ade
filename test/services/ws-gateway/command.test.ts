import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { stringify } from 'yaml';
import { freePort } from '../../support/ports.js';
import { type ChildRun, hostEnv, killIfRunning, spawnAgnes, until, within } from '../../support/processes.js';
import { createUser, type TestServer, withServer } from '../../support/server.js';
import { DISPATCH_TOKEN, notification, TestSocket } from './support.js';

/**
 * `agnes ws-gateway` as its own process (08 §3): it reads its ports from `instance.yaml`, asks the
 * app over HTTP with a service account's token, takes dispatches and exits 0 on SIGTERM after
 * closing its sockets with 1001. No JWT secret and no state store of its own.
 */
describe('agnes ws-gateway', () => {
  let server: TestServer;
  let dir: string;
  let gateway: ChildRun;
  let port: number;
  let dispatchPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agnes-ws-gateway-'));
    server = await withServer();
    const service = await createUser(server.ctx, 'viewer', { service: true });
    await writeFile(join(dir, 'token'), `${service.pat}\n`);
    [port, dispatchPort] = [await freePort(), await freePort()];
    await writeFile(
      join(dir, 'gateway.yaml'),
      stringify({ ws_gateway: { host: '127.0.0.1', port, dispatch_port: dispatchPort } }),
    );
    gateway = spawnAgnes(['ws-gateway'], {
      cwd: dir,
      env: hostEnv({
        AGNES_API_URL: server.url,
        AGNES_TOKEN_FILE: join(dir, 'token'),
        AGNES_DISPATCH_TOKEN: DISPATCH_TOKEN,
        AGNES_CONFIG: join(dir, 'gateway.yaml'),
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'info',
      }),
    });
    await gateway.waitForOutput('stdout', /ws gateway started/, 15_000);
  });

  afterAll(async () => {
    if (gateway) await killIfRunning(gateway);
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('authenticates through the app, delivers a dispatch, and closes with 1001 on SIGTERM', async () => {
    const user = await createUser(server.ctx, 'viewer');
    const socket = new TestSocket(new WebSocket(`ws://127.0.0.1:${port}/ws`));
    await socket.opened;
    socket.send({ type: 'auth', token: user.pat });
    expect(await socket.next('auth_ok')).toEqual({ type: 'auth_ok', user_id: user.id, email: user.email });

    const health = await fetch(`http://127.0.0.1:${dispatchPort}/health`);
    expect(await health.json()).toEqual({ status: 'ok', connections: 1, users: 1 });
    const sent = notification();
    const response = await fetch(`http://127.0.0.1:${dispatchPort}/dispatch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DISPATCH_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_ids: [user.id], notification: sent }),
    });
    expect(await response.json()).toEqual({ sent: 1 });
    expect(await socket.next('notification')).toEqual({ type: 'notification', ...sent });

    gateway.child.kill('SIGTERM');
    expect((await socket.closed).code).toBe(1001);
    expect(await within(gateway.exited, 10_000, 'the gateway exit')).toEqual({ code: 0, signal: null });
    expect(gateway.stdout).not.toContain(user.pat);
    await until(async () => gateway.stdout.includes('ws gateway stopped'), 'the stop log line');
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { wsGatewayServices } from '../../../src/server/ws-gateway.js';
import { freePort } from '../../support/ports.js';
import { call, createUser, type TestServer, withServer } from '../../support/server.js';
import { DISPATCH_TOKEN, notification, TestSocket } from './support.js';

/** `ws_gateway.in_process`: the gateway as a service of `agnes serve`, asking the app's own authenticator. */
describe('in-process ws gateway', () => {
  let server: TestServer;
  let port: number;
  let dispatchPort: number;

  beforeAll(async () => {
    port = await freePort();
    dispatchPort = await freePort();
    server = await withServer({
      startServices: true,
      services: wsGatewayServices,
      config: {
        ws_gateway: {
          in_process: true,
          host: '127.0.0.1',
          port,
          dispatch_port: dispatchPort,
          public_url: `ws://127.0.0.1:${port}/ws`,
        },
        notifications: { dispatch_token: DISPATCH_TOKEN },
      },
    });
  });

  async function open(token: string): Promise<TestSocket> {
    const socket = new TestSocket(new WebSocket(`ws://127.0.0.1:${port}/ws`));
    await socket.opened;
    socket.send({ type: 'auth', token });
    return socket;
  }

  it('authenticates PATs and tickets without HTTP, spends tickets, delivers dispatches and closes with 1001 at shutdown', async () => {
    const user = await createUser(server.ctx, 'viewer');
    const byPat = await open(user.pat);
    expect(await byPat.next('auth_ok')).toMatchObject({ user_id: user.id });

    const login = await call(server, 'POST', '/auth/token', {
      body: { email: user.email, password: user.password },
    });
    const ticket = await call(server, 'POST', '/api/notifications/ws-ticket', {
      auth: `Bearer ${login.body.access_token}`,
    });
    expect(ticket.body.url).toBe(`ws://127.0.0.1:${port}/ws`);
    const byTicket = await open(ticket.body.ticket as string);
    expect(await byTicket.next('auth_ok')).toMatchObject({ user_id: user.id });
    const replay = await open(ticket.body.ticket as string);
    expect((await replay.closed).code).toBe(4001);
    expect((await call(server, 'GET', '/auth/me', { auth: `Bearer ${ticket.body.ticket}` })).status).toBe(
      401,
    );

    const sent = notification();
    const response = await fetch(`http://127.0.0.1:${dispatchPort}/dispatch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${DISPATCH_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_ids: [user.id], notification: sent }),
    });
    expect(await response.json()).toEqual({ sent: 2 });
    expect(await byTicket.next('notification')).toEqual({ type: 'notification', ...sent });

    await server.close();
    expect((await byPat.closed).code).toBe(1001);
    expect((await byTicket.closed).code).toBe(1001);
  });
});

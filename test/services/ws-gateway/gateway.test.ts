import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { JwtService } from '../../../src/server/auth/jwt.js';
import type { WsGateway } from '../../../src/services/ws-gateway/index.js';
import {
  call,
  createUser,
  TEST_JWT_SECRET,
  type TestServer,
  type TestUser,
  withServer,
} from '../../support/server.js';
import {
  APP_ORIGIN,
  authenticated,
  connect,
  dispatch,
  dispatchUrl,
  gatewayUrl,
  notification,
  startGateway,
  type TestSocket,
} from './support.js';

/**
 * The WebSocket gateway (08 §3, §9) against the real app: `agnes ws-gateway`'s HTTP port, real
 * `ws` clients, real sockets on loopback.
 */
describe('ws gateway against the real app', () => {
  let server: TestServer;
  let service: TestUser;
  let gateways: WsGateway[] = [];
  const jwt = new JwtService({ current: TEST_JWT_SECRET, previous: null }, 24);

  beforeAll(async () => {
    server = await withServer({
      config: {
        server: { public_url: APP_ORIGIN },
        ws_gateway: { public_url: 'ws://127.0.0.1:8765/ws' },
        auth: { rate_limits: { default: { max: 100_000, window_seconds: 60 } } },
      },
    });
    service = await createUser(server.ctx, 'viewer', { service: true });
  });
  afterEach(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    gateways = [];
  });
  afterAll(async () => server.close());

  async function gateway(overrides: Parameters<typeof startGateway>[2] = {}): Promise<WsGateway> {
    const started = await startGateway(server, service.pat, overrides);
    gateways.push(started);
    return started;
  }

  async function session(user: TestUser): Promise<string> {
    const login = await call(server, 'POST', '/auth/token', {
      body: { email: user.email, password: user.password },
    });
    expect(login.status).toBe(200);
    return login.body.access_token as string;
  }

  async function ticket(sessionToken: string): Promise<string> {
    const issued = await call(server, 'POST', '/api/notifications/ws-ticket', {
      auth: `Bearer ${sessionToken}`,
    });
    expect(issued.status).toBe(200);
    expect(issued.body.url).toBe('ws://127.0.0.1:8765/ws');
    return issued.body.ticket as string;
  }

  describe('authentication', () => {
    it('accepts a PAT, a session JWT and a ticket, answering auth_ok with the user', async () => {
      const gw = await gateway();
      const user = await createUser(server.ctx, 'analyst');
      const token = await session(user);
      for (const credential of [user.pat, token, await ticket(token)]) {
        const { socket, answer } = await authenticated(gw, credential);
        expect(answer).toEqual({ type: 'auth_ok', user_id: user.id, email: user.email });
        socket.close();
      }
    });

    it('refuses a replayed ticket, an expired one and one whose session was logged out, with 4001', async () => {
      const gw = await gateway();
      const user = await createUser(server.ctx, 'viewer');
      const token = await session(user);
      const once = await ticket(token);
      expect((await authenticated(gw, once)).answer.type).toBe('auth_ok');
      const replay = await authenticated(gw, once);
      expect(replay.answer).toEqual({ type: 'auth_error', message: 'invalid token' });
      expect((await replay.socket.closed).code).toBe(4001);

      const claims = await jwt.verify(token);
      const expired = await jwt.signTicket(claims, new Date(Date.now() - 120_000));
      const late = await authenticated(gw, expired.token);
      expect(late.answer.type).toBe('auth_error');
      expect((await late.socket.closed).code).toBe(4001);

      const orphan = await ticket(token);
      expect((await call(server, 'POST', '/auth/logout', { auth: `Bearer ${token}`, body: {} })).status).toBe(
        200,
      );
      const afterLogout = await authenticated(gw, orphan);
      expect(afterLogout.answer.type).toBe('auth_error');
      expect((await afterLogout.socket.closed).code).toBe(4001);
    });

    it('spends a ticket at its first GET /auth/me and refuses it as a Bearer anywhere else', async () => {
      const user = await createUser(server.ctx, 'admin');
      const token = await session(user);
      const fresh = await ticket(token);
      for (const [method, path] of [
        ['GET', '/api/settings'],
        ['POST', '/api/notifications/ws-ticket'],
        ['GET', '/api/users'],
        ['POST', '/auth/logout'],
      ] as const) {
        const response = await call(server, method, path, { auth: `Bearer ${fresh}` });
        expect(response.status, `${method} ${path}`).toBe(401);
      }
      const me = await call(server, 'GET', '/auth/me', { auth: `Bearer ${fresh}` });
      expect(me.status).toBe(200);
      expect(me.body.auth).toMatchObject({ method: 'ws_ticket', token_id: (await jwt.verify(token)).jti });
      expect((await call(server, 'GET', '/auth/me', { auth: `Bearer ${fresh}` })).status).toBe(401);
    });

    it('issues tickets to sessions only, and answers 503 while ws_gateway.public_url is unset', async () => {
      const user = await createUser(server.ctx, 'viewer');
      const byPat = await call(server, 'POST', '/api/notifications/ws-ticket', { auth: user.auth });
      expect(byPat.status).toBe(400);
      const bare = await withServer();
      try {
        const other = await createUser(bare.ctx, 'viewer');
        const login = await call(bare, 'POST', '/auth/token', {
          body: { email: other.email, password: other.password },
        });
        const response = await call(bare, 'POST', '/api/notifications/ws-ticket', {
          auth: `Bearer ${login.body.access_token}`,
        });
        expect(response.status).toBe(503);
        expect(response.body.code).toBe('not_configured');
      } finally {
        await bare.close();
      }
    });

    it('closes with 4008 when no auth message arrives in time, and 4001 for a first message that is not one', async () => {
      const gw = await gateway({ authTimeoutMs: 200 });
      const silent = await connect(gw);
      expect(await silent.closed).toEqual({ code: 4008, reason: 'authentication timed out' });
      expect(silent.messages).toEqual([{ type: 'auth_error', message: 'authentication timed out' }]);
      const chatty = await connect(gw);
      chatty.send('hello');
      expect((await chatty.closed).code).toBe(4001);
    });

    it('allows five sockets per user and refuses the sixth with 4029', async () => {
      const gw = await gateway();
      const user = await createUser(server.ctx, 'viewer');
      const open: TestSocket[] = [];
      for (let i = 0; i < 5; i += 1) {
        const { socket, answer } = await authenticated(gw, user.pat);
        expect(answer.type).toBe('auth_ok');
        open.push(socket);
      }
      const sixth = await authenticated(gw, user.pat);
      expect(sixth.answer).toEqual({ type: 'auth_error', message: 'too many connections' });
      expect((await sixth.socket.closed).code).toBe(4029);
      open[0]!.close();
      await open[0]!.closed;
      await expect.poll(() => gw.counts().connections).toBe(4);
      expect((await authenticated(gw, user.pat)).answer.type).toBe('auth_ok');
    });

    it('refuses every connection of an IP with 4029 after ten failed authentications in a minute, valid tokens included', async () => {
      const gw = await gateway();
      const user = await createUser(server.ctx, 'viewer');
      for (let i = 0; i < 10; i += 1) {
        const { socket } = await authenticated(gw, `agnes_pat_not-a-real-token-${i}`);
        expect((await socket.closed).code).toBe(4001);
      }
      const valid = await connect(gw);
      valid.ws.send(JSON.stringify({ type: 'auth', token: user.pat }), () => undefined);
      expect(await valid.closed).toMatchObject({ code: 4029 });
      expect(valid.messages).toEqual([{ type: 'auth_error', message: 'too many failed authentications' }]);
    });
  });

  describe('connection upkeep', () => {
    it('pings, keeps a socket that answers and drops one that misses three pongs with 4000', async () => {
      const gw = await gateway({ heartbeatMs: 100, missedHeartbeats: 3 });
      const user = await createUser(server.ctx, 'viewer');
      const lively = await authenticated(gw, user.pat);
      const silent = await authenticated(gw, user.pat, { autoPong: false });
      const started = Date.now();
      expect((await silent.socket.closed).code).toBe(4000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(silent.socket.messages.filter((m) => m.type === 'ping')).toHaveLength(3);
      expect(lively.socket.ws.readyState).toBe(WebSocket.OPEN);
      expect(lively.socket.messages.filter((m) => m.type === 'ping').length).toBeGreaterThanOrEqual(3);
    });

    it('answers a malformed message after auth with an error and keeps the socket', async () => {
      const gw = await gateway();
      const user = await createUser(server.ctx, 'viewer');
      const { socket } = await authenticated(gw, user.pat);
      socket.send('{not json');
      expect(await socket.next('error')).toEqual({ type: 'error', message: 'not JSON' });
      expect(socket.ws.readyState).toBe(WebSocket.OPEN);
    });

    it('closes sockets at the re-check once their session is logged out or their PAT revoked', async () => {
      const gw = await gateway({ recheckMs: 150 });
      const user = await createUser(server.ctx, 'analyst');
      const token = await session(user);
      const bySession = await authenticated(gw, token);
      const byTicket = await authenticated(gw, await ticket(token));
      const created = await call(server, 'POST', '/api/tokens', { auth: user.auth, body: { name: 'ws' } });
      expect(created.status).toBe(201);
      const byPat = await authenticated(gw, created.body.token as string);
      const untouched = await authenticated(gw, user.pat);
      for (const socket of [bySession, byTicket, byPat, untouched])
        expect(socket.answer.type).toBe('auth_ok');

      await call(server, 'POST', '/auth/logout', { auth: `Bearer ${token}`, body: {} });
      await call(server, 'DELETE', `/api/tokens/${created.body.id}`, { auth: user.auth });
      for (const socket of [bySession, byTicket, byPat]) {
        expect((await socket.socket.closed).code).toBe(4001);
        expect(socket.socket.messages).toContainEqual({
          type: 'auth_error',
          message: 'credential no longer valid',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(untouched.socket.ws.readyState).toBe(WebSocket.OPEN);

      await server.ctx.repos.users.update(user.id, { active: false });
      expect((await untouched.socket.closed).code).toBe(4001);
    });

    it('refuses a browser Origin that is not allowed with 403, null included; no Origin is fine', async () => {
      const gw = await gateway();
      await expect(connect(gw, { origin: 'https://evil.example' })).rejects.toThrow('403');
      await expect(connect(gw, { origin: 'null' })).rejects.toThrow('403');
      await expect(connect(gw, { path: '/elsewhere' })).rejects.toThrow('404');
      (await connect(gw, { origin: APP_ORIGIN })).close();
      (await connect(gw)).close();
    });

    it('closes a socket that sends more than 16 KiB with 1009', async () => {
      const gw = await gateway();
      const user = await createUser(server.ctx, 'viewer');
      const { socket } = await authenticated(gw, user.pat);
      socket.send(JSON.stringify({ type: 'pong', pad: 'x'.repeat(17 * 1024) }));
      expect((await socket.closed).code).toBe(1009);
      const early = await connect(gw);
      early.send('x'.repeat(16 * 1024 + 1));
      expect((await early.closed).code).toBe(1009);
    });

    it('closes every socket with 1001 when it stops', async () => {
      const gw = await startGateway(server, service.pat);
      const user = await createUser(server.ctx, 'viewer');
      const { socket } = await authenticated(gw, user.pat);
      const pending = await connect(gw);
      await gw.stop();
      expect((await socket.closed).code).toBe(1001);
      expect((await pending.closed).code).toBe(1001);
    });
  });

  describe('dispatch', () => {
    it("writes a notification to every socket of the named users and to nobody else's", async () => {
      const gw = await gateway();
      const [alice, bob, carol] = [
        await createUser(server.ctx, 'viewer'),
        await createUser(server.ctx, 'analyst'),
        await createUser(server.ctx, 'viewer'),
      ];
      const aliceSockets = [
        (await authenticated(gw, alice.pat)).socket,
        (await authenticated(gw, alice.pat)).socket,
        (await authenticated(gw, await ticket(await session(alice)))).socket,
      ];
      const bobSocket = (await authenticated(gw, bob.pat)).socket;
      const carolSocket = (await authenticated(gw, carol.pat)).socket;
      const sent = notification();
      const answer = await dispatch(gw, { user_ids: [alice.id, bob.id, randomUUID()], notification: sent });
      expect(answer).toEqual({ status: 200, body: { sent: 4 } });
      for (const socket of [...aliceSockets, bobSocket])
        expect(await socket.next('notification')).toEqual({ type: 'notification', ...sent });
      // A ping written after the dispatch would arrive after it: carol's socket saw no notification.
      await dispatch(gw, { user_ids: [carol.id], notification: notification('n-2') });
      expect((await carolSocket.next('notification')).id).toBe('n-2');
      expect(carolSocket.messages.filter((m) => m.type === 'notification')).toHaveLength(1);
      expect(bobSocket.messages.filter((m) => m.type === 'notification')).toHaveLength(1);
    });

    it('answers 401 without or with a wrong token, 413 over 64 KiB, 400 for a bad body', async () => {
      const gw = await gateway();
      const body = { user_ids: [randomUUID()], notification: notification() };
      expect((await dispatch(gw, body, null)).status).toBe(401);
      expect((await dispatch(gw, body, 'wrong-token-of-the-same-length-0123456789ab')).status).toBe(401);
      const huge = { ...body, notification: { ...notification(), message: 'x'.repeat(70 * 1024) } };
      expect((await dispatch(gw, huge)).status).toBe(413);
      expect((await dispatch(gw, '{"user_ids": ')).status).toBe(400);
      expect((await dispatch(gw, { user_ids: [], notification: notification() })).status).toBe(400);
      expect((await dispatch(gw, { ...body, extra: true })).status).toBe(400);
      expect((await dispatch(gw, body)).body).toEqual({ sent: 0 });
    });

    it('reports counts only at GET /health', async () => {
      const gw = await gateway();
      const user = await createUser(server.ctx, 'viewer');
      await authenticated(gw, user.pat);
      await authenticated(gw, user.pat);
      const health = await fetch(`${dispatchUrl(gw)}/health`);
      expect(await health.json()).toEqual({ status: 'ok', connections: 2, users: 1 });
    });

    it('drops a socket that stops reading instead of buffering for it without bound', async () => {
      const gw = await gateway({ maxBufferedBytes: 256 * 1024 });
      const user = await createUser(server.ctx, 'viewer');
      const { socket } = await authenticated(gw, user.pat);
      // The client stops reading: the kernel buffers fill, then the gateway's own buffer grows.
      (socket.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      const big = { ...notification(), message: 'y'.repeat(15_000) };
      let delivered = 0;
      for (let i = 0; i < 2_000 && gw.counts().connections > 0; i += 1) {
        delivered +=
          ((await dispatch(gw, { user_ids: [user.id], notification: big })).body.sent as number) ?? 0;
      }
      expect(gw.counts().connections).toBe(0);
      expect(delivered).toBeGreaterThan(0);
      expect(delivered).toBeLessThan(2_000);
    });
  });

  it('serves /ws only, as a WebSocket', async () => {
    const gw = await gateway();
    const plain = await fetch(gatewayUrl(gw).replace('ws:', 'http:'));
    expect(plain.status).toBe(426);
  });
});

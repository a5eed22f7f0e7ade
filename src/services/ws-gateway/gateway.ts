import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { WS_CHECK_MAX_CONNECTIONS, WS_CLOSE, type WsDispatchBody } from '../../contract/index.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/jobs/logger.js';
import { type DispatchTarget, dispatchHandler } from './dispatch.js';
import { FailedAuthLimiter } from './failed-auth.js';
import type { GatewayIdentity, GatewayPort } from './port.js';
import { encode, MAX_CLIENT_MESSAGE_BYTES, parseClientMessage } from './protocol.js';
import { type GatewaySettings, normaliseOrigin } from './settings.js';

export const WS_PATH = '/ws';
/** How long shutdown waits for clients to answer the 1001 close before cutting them off. */
const CLOSE_GRACE_MS = 1_000;
/** Not among 08 §3's codes: the app could not be asked, so the client should simply retry. */
const TRY_AGAIN_LATER = 1013;

interface Client {
  ws: WebSocket;
  ip: string;
  state: 'new' | 'authenticating' | 'open' | 'closed';
  identity: GatewayIdentity | null;
  /** Pings sent since the last pong. */
  missed: number;
  authTimer: NodeJS.Timeout | null;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server | null): Promise<void> {
  if (!server?.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

function textOf(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/**
 * The WebSocket gateway (08 §3, §9): authenticates each socket through the app, keeps at most
 * `max_connections_per_user` per user, pings them, re-checks their credentials, and writes
 * dispatched notifications to every socket of the named users. It keeps no queue: a user who is
 * offline finds the notification in the inbox.
 */
export class WsGateway implements DispatchTarget {
  readonly #settings: GatewaySettings;
  readonly #port: GatewayPort;
  readonly #log: Logger;
  readonly #limiter: FailedAuthLimiter;
  readonly #clients = new Set<Client>();
  readonly #users = new Map<string, Set<Client>>();
  #wss: WebSocketServer | null = null;
  #server: Server | null = null;
  #dispatch: Server | null = null;
  #timers: NodeJS.Timeout[] = [];
  #rechecking = false;
  #stopping = false;

  constructor(settings: GatewaySettings, port: GatewayPort, log: Logger) {
    this.#settings = settings;
    this.#port = port;
    this.#log = log;
    this.#limiter = new FailedAuthLimiter(settings.failedAuthLimit, settings.failedAuthWindowMs);
  }

  async start(): Promise<void> {
    const s = this.#settings;
    this.#wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: MAX_CLIENT_MESSAGE_BYTES,
    });
    const server = createServer((_request, response) => {
      response.writeHead(426, { 'content-type': 'text/plain', connection: 'close' });
      response.end('WebSocket only\n');
    });
    server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#upgrade(request, socket, head),
    );
    this.#server = server;
    await listen(server, s.host, s.port);
    if (s.dispatchToken) {
      this.#dispatch = createServer((request, response) => {
        dispatchHandler(this, s.dispatchToken!)(request, response).catch((error: unknown) => {
          this.#log.warn({ err: errorMessage(error) }, 'dispatch request failed');
          if (!response.headersSent) response.writeHead(400).end();
        });
      });
      await listen(this.#dispatch, s.dispatchHost, s.dispatchPort);
    } else {
      this.#log.warn({}, 'no dispatch token (AGNES_DISPATCH_TOKEN): the dispatch endpoint stays off');
    }
    this.#timers = [
      setInterval(() => this.#heartbeat(), s.heartbeatMs),
      setInterval(() => void this.#recheck(), s.recheckMs),
    ];
    this.#log.info(
      { port: this.address.port, dispatch_port: this.address.dispatchPort },
      'ws gateway started',
    );
  }

  /** The bound ports (the configured ones, or the ones the system chose for port 0). */
  get address(): { port: number; dispatchPort: number | null } {
    const port = (this.#server?.address() as AddressInfo | null)?.port ?? this.#settings.port;
    const dispatch = this.#dispatch?.address() as AddressInfo | null | undefined;
    return { port, dispatchPort: dispatch?.port ?? null };
  }

  /** Closes every socket with 1001, then the listeners. */
  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    const closed = [...this.#clients].map(
      (client) =>
        new Promise<void>((resolve) => {
          if (client.ws.readyState === WebSocket.CLOSED) return resolve();
          client.ws.once('close', () => resolve());
          this.#close(client, WS_CLOSE.goingAway, 'server shutting down');
        }),
    );
    await Promise.race([Promise.all(closed), sleep(CLOSE_GRACE_MS)]);
    for (const client of this.#clients) client.ws.terminate();
    this.#wss?.close();
    await Promise.all([closeServer(this.#server), closeServer(this.#dispatch)]);
  }

  counts(): { connections: number; users: number } {
    let connections = 0;
    for (const sockets of this.#users.values()) connections += sockets.size;
    return { connections, users: this.#users.size };
  }

  dispatch(body: WsDispatchBody): number {
    const data = encode({ type: 'notification', ...body.notification, url: body.notification.url ?? null });
    let sent = 0;
    for (const userId of new Set(body.user_ids))
      for (const client of this.#users.get(userId) ?? []) if (this.#send(client, data)) sent += 1;
    return sent;
  }

  #upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    const origin = request.headers.origin;
    const refusal = this.#stopping
      ? ([503, 'Service Unavailable'] as const)
      : (request.url ?? '').split('?')[0] !== WS_PATH
        ? ([404, 'Not Found'] as const)
        : origin !== undefined && !this.#settings.allowedOrigins.has(normaliseOrigin(origin) ?? '')
          ? ([403, 'Forbidden'] as const)
          : null;
    if (refusal) {
      rejectUpgrade(socket, refusal[0], refusal[1]);
      return;
    }
    const ip = request.socket.remoteAddress ?? 'unknown';
    this.#wss!.handleUpgrade(request, socket, head, (ws) => this.#accept(ws, ip));
  }

  #accept(ws: WebSocket, ip: string): void {
    const client: Client = { ws, ip, state: 'new', identity: null, missed: 0, authTimer: null };
    this.#clients.add(client);
    // `ws` itself closes a socket that breaks the protocol or the size limit (1009).
    ws.on('error', () => undefined);
    ws.on('close', () => this.#forget(client));
    if (this.#limiter.blocked(ip)) {
      this.#refuse(client, WS_CLOSE.tooMany, 'too many failed authentications');
      return;
    }
    client.authTimer = setTimeout(
      () => this.#refuse(client, WS_CLOSE.authTimeout, 'authentication timed out'),
      this.#settings.authTimeoutMs,
    );
    ws.on('message', (data) => this.#message(client, textOf(data)));
  }

  #message(client: Client, text: string): void {
    const message = parseClientMessage(text);
    if (client.state === 'new') {
      if (message.type !== 'auth') {
        this.#limiter.fail(client.ip);
        this.#refuse(client, WS_CLOSE.invalidAuth, 'the first message must be an auth message');
        return;
      }
      void this.#authenticate(client, message.token);
      return;
    }
    if (client.state !== 'open') return;
    if (message.type === 'pong') client.missed = 0;
    else if (message.type === 'auth')
      this.#send(client, encode({ type: 'error', message: 'already authenticated' }));
    else this.#send(client, encode({ type: 'error', message: message.reason }));
  }

  async #authenticate(client: Client, token: string): Promise<void> {
    client.state = 'authenticating';
    let identity: GatewayIdentity | null;
    try {
      identity = await this.#port.authenticate(token, client.ip);
    } catch (error) {
      this.#log.warn({ err: errorMessage(error) }, 'cannot authenticate a websocket: the app did not answer');
      return this.#refuse(client, TRY_AGAIN_LATER, 'authentication unavailable, try again later');
    }
    // Timed out or gone while the app answered.
    if (client.state !== 'authenticating') return;
    if (!identity) {
      this.#limiter.fail(client.ip);
      return this.#refuse(client, WS_CLOSE.invalidAuth, 'invalid token');
    }
    const userId = identity.connection.user_id;
    const sockets = this.#users.get(userId) ?? new Set<Client>();
    if (sockets.size >= this.#settings.maxConnectionsPerUser)
      return this.#refuse(client, WS_CLOSE.tooMany, 'too many connections');
    if (client.authTimer) clearTimeout(client.authTimer);
    client.authTimer = null;
    client.state = 'open';
    client.identity = identity;
    sockets.add(client);
    this.#users.set(userId, sockets);
    this.#send(client, encode({ type: 'auth_ok', user_id: userId, email: identity.email }));
  }

  /** `auth_error` with the reason, then the close code (08 §3). */
  #refuse(client: Client, code: number, message: string): void {
    this.#send(client, encode({ type: 'auth_error', message }));
    this.#close(client, code, message);
  }

  #close(client: Client, code: number, reason: string): void {
    this.#forget(client);
    if (client.ws.readyState === WebSocket.OPEN || client.ws.readyState === WebSocket.CONNECTING)
      client.ws.close(code, reason);
  }

  #forget(client: Client): void {
    if (client.authTimer) clearTimeout(client.authTimer);
    client.authTimer = null;
    client.state = 'closed';
    const userId = client.identity?.connection.user_id;
    const sockets = userId ? this.#users.get(userId) : undefined;
    if (sockets?.delete(client) && sockets.size === 0) this.#users.delete(userId!);
    if (client.ws.readyState === WebSocket.CLOSED) this.#clients.delete(client);
  }

  /**
   * Writes to an open socket; a client that has let more than `maxBufferedBytes` pile up is cut
   * off instead, so one slow reader cannot grow the gateway's memory without bound.
   */
  #send(client: Client, data: string): boolean {
    const { ws } = client;
    if (ws.readyState !== WebSocket.OPEN) return false;
    if (ws.bufferedAmount > this.#settings.maxBufferedBytes) {
      this.#log.warn({ buffered: ws.bufferedAmount }, 'dropped a websocket that does not keep up');
      this.#forget(client);
      ws.terminate();
      return false;
    }
    ws.send(data);
    return true;
  }

  #heartbeat(): void {
    for (const client of this.#clients) {
      if (client.state !== 'open') continue;
      if (client.missed >= this.#settings.missedHeartbeats) {
        this.#close(client, WS_CLOSE.heartbeat, 'missed heartbeats');
        continue;
      }
      client.missed += 1;
      this.#send(client, encode({ type: 'ping', ts: Date.now() }));
    }
    this.#limiter.prune();
  }

  /** Every open socket's credential, through the app, in batches of 10,000 (03 §17 `ws-check`). */
  async #recheck(): Promise<void> {
    if (this.#rechecking) return;
    this.#rechecking = true;
    try {
      const open = [...this.#clients].filter((client) => client.state === 'open');
      for (let i = 0; i < open.length; i += WS_CHECK_MAX_CONNECTIONS) {
        const batch = open.slice(i, i + WS_CHECK_MAX_CONNECTIONS);
        const valid = await this.#port.check(batch.map((client) => client.identity!.connection));
        batch.forEach((client, index) => {
          if (valid[index] === false && client.state === 'open')
            this.#refuse(client, WS_CLOSE.invalidAuth, 'credential no longer valid');
        });
      }
    } catch (error) {
      // The app restarting must not drop every socket; they are checked again next time.
      this.#log.warn(
        { err: errorMessage(error) },
        'websocket re-check failed; sockets kept until the next one',
      );
    } finally {
      this.#rechecking = false;
    }
  }
}

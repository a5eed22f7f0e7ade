import { pino } from 'pino';
import WebSocket from 'ws';
import { httpGatewayPort } from '../../../src/operator/commands/ws-gateway.js';
import { ServiceClient } from '../../../src/operator/service-client.js';
import { type GatewaySettings, gatewaySettings, WsGateway } from '../../../src/services/ws-gateway/index.js';
import type { TestServer } from '../../support/server.js';

export const DISPATCH_TOKEN = 'dispatch-token-0123456789-abcdefghijklmnop';
export const APP_ORIGIN = 'http://app.example:8000';

/** A real gateway on loopback ports of its own, asking the real app over HTTP with `serviceToken`. */
export async function startGateway(
  server: TestServer,
  serviceToken: string,
  overrides: Partial<GatewaySettings> = {},
): Promise<WsGateway> {
  const endpoint = { apiUrl: server.url, token: serviceToken };
  const settings: GatewaySettings = {
    ...gatewaySettings(server.ctx.config.ws_gateway, DISPATCH_TOKEN),
    host: '127.0.0.1',
    port: 0,
    dispatchHost: '127.0.0.1',
    dispatchPort: 0,
    allowedOrigins: new Set([APP_ORIGIN]),
    ...overrides,
  };
  const gateway = new WsGateway(
    settings,
    httpGatewayPort(endpoint, new ServiceClient(endpoint)),
    pino({ level: 'silent' }),
  );
  await gateway.start();
  return gateway;
}

export interface Closed {
  code: number;
  reason: string;
}

/** A real `ws` client that records every message and its close. */
export class TestSocket {
  readonly messages: Record<string, unknown>[] = [];
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;
  #waiters: (() => void)[] = [];

  constructor(
    readonly ws: WebSocket,
    options: { autoPong?: boolean } = {},
  ) {
    this.opened = new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
      ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as Record<string, unknown>;
      this.messages.push(message);
      if (message.type === 'ping' && (options.autoPong ?? true))
        ws.send(JSON.stringify({ type: 'pong', ts: message.ts }));
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  /** The first message of one of `types` (waiting for it), or throws after `timeoutMs`. */
  async next(types: string | string[], timeoutMs = 5_000): Promise<Record<string, unknown>> {
    const wanted = Array.isArray(types) ? types : [types];
    const type = wanted.join(' or ');
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => wanted.includes(String(m.type)));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  close(): void {
    this.ws.close();
  }
}

export function gatewayUrl(gateway: WsGateway): string {
  return `ws://127.0.0.1:${gateway.address.port}/ws`;
}

export function dispatchUrl(gateway: WsGateway): string {
  return `http://127.0.0.1:${gateway.address.dispatchPort}`;
}

export async function connect(
  gateway: WsGateway,
  options: { origin?: string; autoPong?: boolean; path?: string } = {},
): Promise<TestSocket> {
  const url = options.path ? `ws://127.0.0.1:${gateway.address.port}${options.path}` : gatewayUrl(gateway);
  const socket = new TestSocket(
    new WebSocket(url, options.origin ? { origin: options.origin } : {}),
    options.autoPong === undefined ? {} : { autoPong: options.autoPong },
  );
  await socket.opened;
  return socket;
}

/** Connects and authenticates; resolves with the socket and its first answer (`auth_ok` or `auth_error`). */
export async function authenticated(
  gateway: WsGateway,
  token: string,
  options: { autoPong?: boolean } = {},
): Promise<{ socket: TestSocket; answer: Record<string, unknown> }> {
  const socket = await connect(gateway, options);
  socket.send({ type: 'auth', token });
  const answer = await socket.next(['auth_ok', 'auth_error']);
  return { socket, answer };
}

export async function dispatch(
  gateway: WsGateway,
  body: unknown,
  token: string | null = DISPATCH_TOKEN,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${dispatchUrl(gateway)}/dispatch`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

export function notification(id = 'n-1') {
  return {
    id,
    title: 'Alert fired',
    message: 'orders dropped below 10',
    source_kind: 'alert',
    source_id: 'a-1',
    created_at: new Date().toISOString(),
    url: '/notifications',
  };
}

import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import WebSocket, { WebSocketServer } from 'ws';
import { httpGatewayPort } from '../src/operator/commands/ws-gateway.js';
import { ServiceClient } from '../src/operator/service-client.js';
import type { Runtime } from '../src/runtime/runtime.js';
import { generatePat } from '../src/server/auth/pat.js';
import { gatewaySettings, WsGateway } from '../src/services/ws-gateway/index.js';
import { type Benchmark, percentile } from './lib.js';
import { benchServer } from './support.js';

const DISPATCH_TOKEN = 'bench-dispatch-token-0123456789-abcdefghij';
const PER_USER = 5;

/** A user and a PAT straight in the state store (no password: hashing 200 would dominate setup). */
async function userWithPat(ctx: Runtime, n: number, service = false): Promise<{ id: string; pat: string }> {
  const user = await ctx.repos.users.create({
    email: `ws-bench-${n}@example.com`,
    role: 'viewer',
    name: `ws bench ${n}`,
    password_hash: null,
    is_service: service,
    active: true,
  });
  const pat = generatePat();
  await ctx.repos.tokens.create({
    user_id: user.id,
    name: 'bench',
    token_hash: pat.hash,
    prefix: pat.prefix,
    expires_at: null,
  });
  return { id: user.id, pat: pat.token };
}

/** A client that stamps the arrival of every `notification` (or, for the baseline, every message). */
interface Receiver {
  ws: WebSocket;
  arrivals: number[];
}

function receiver(
  url: string,
  onOpen: (ws: WebSocket) => void,
  counts: (text: string) => boolean,
): Promise<Receiver> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const client: Receiver = { ws, arrivals: [] };
    ws.on('message', (data) => {
      const text = data.toString();
      if (counts(text)) client.arrivals.push(performance.now());
      else if (text.includes('"auth_ok"')) resolve(client);
    });
    ws.once('open', () => onOpen(ws));
    ws.once('error', reject);
  });
}

async function inBatches<T>(count: number, batch: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += batch)
    out.push(
      ...(await Promise.all(Array.from({ length: Math.min(batch, count - i) }, (_, j) => make(i + j)))),
    );
  return out;
}

/** Waits until every receiver has `expected` arrivals, and returns each one's latest minus `start`. */
async function latencies(receivers: Receiver[], expected: number, start: number): Promise<number[]> {
  const deadline = Date.now() + 30_000;
  while (receivers.some((r) => r.arrivals.length < expected)) {
    if (Date.now() > deadline) throw new Error('not every client received the message');
    await new Promise((resolve) => setImmediate(resolve));
  }
  return receivers.map((r) => r.arrivals[expected - 1]! - start);
}

const benchmark: Benchmark = {
  name: 'ws-fanout',
  description:
    'p95 delivery latency of one POST /dispatch to 1,000 authenticated sockets (200 users × 5), against a bare ws broadcast to 1,000 sockets',
  async run(ctx) {
    const users = ctx.smoke ? 4 : 200;
    const rounds = ctx.smoke ? 2 : 20;
    const clients = users * PER_USER;
    const server = await benchServer(ctx.workDir);
    const service = await userWithPat(server.ctx, 0, true);
    const endpoint = { apiUrl: server.url, token: service.pat };
    const gateway = new WsGateway(
      {
        ...gatewaySettings(server.ctx.config.ws_gateway, DISPATCH_TOKEN),
        host: '127.0.0.1',
        port: 0,
        dispatchHost: '127.0.0.1',
        dispatchPort: 0,
      },
      httpGatewayPort(endpoint, new ServiceClient(endpoint)),
      pino({ level: 'silent' }),
    );
    await gateway.start();
    const bare = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => bare.once('listening', resolve));
    const sockets: WebSocket[] = [];
    try {
      const people = await inBatches(users, 20, (i) => userWithPat(server.ctx, i + 1));
      const gatewayUrl = `ws://127.0.0.1:${gateway.address.port}/ws`;
      const target = await inBatches(clients, 50, (i) =>
        receiver(
          gatewayUrl,
          (ws) => ws.send(JSON.stringify({ type: 'auth', token: people[i % users]!.pat })),
          (text) => text.includes('"notification"'),
        ),
      );
      // The bare server answers its own "auth_ok" at connect, so both sides wait the same way.
      bare.on('connection', (ws) => ws.send('{"type":"auth_ok"}'));
      const bareAddress = bare.address() as { port: number };
      const baseline = await inBatches(clients, 50, () =>
        receiver(
          `ws://127.0.0.1:${bareAddress.port}`,
          () => undefined,
          (text) => !text.includes('"auth_ok"'),
        ),
      );
      sockets.push(...target.map((r) => r.ws), ...baseline.map((r) => r.ws));
      const bareSockets = [...bare.clients];
      const notification = {
        id: 'n-bench',
        title: 'Alert fired: orders below threshold',
        message: 'The daily order count dropped below 100 (it is 87).',
        source_kind: 'alert',
        source_id: 'a-bench',
        created_at: new Date().toISOString(),
        url: '/notifications',
      };
      const body = JSON.stringify({ user_ids: people.map((p) => p.id), notification });
      const frame = JSON.stringify({ type: 'notification', ...notification });
      const dispatchUrl = `http://127.0.0.1:${gateway.address.dispatchPort}/dispatch`;
      const samples = { target: [] as number[], baseline: [] as number[] };
      // Rounds interleave the two, so a shared machine's drift hits both alike.
      for (let round = 1; round <= rounds; round++) {
        const started = performance.now();
        const response = await fetch(dispatchUrl, {
          method: 'POST',
          headers: { authorization: `Bearer ${DISPATCH_TOKEN}`, 'content-type': 'application/json' },
          body,
        });
        const { sent } = (await response.json()) as { sent: number };
        if (sent !== clients) throw new Error(`dispatch reached ${sent} of ${clients} sockets`);
        samples.target.push(...(await latencies(target, round, started)));
        const bareStart = performance.now();
        for (const ws of bareSockets) ws.send(frame);
        samples.baseline.push(...(await latencies(baseline, round, bareStart)));
      }
      return [
        {
          metric: 'p95_delivery',
          target: percentile(samples.target, 95),
          baseline: percentile(samples.baseline, 95),
          unit: 'ms',
          op: '<=',
          limit: 1.5,
          note: `${clients} sockets of ${users} users (5 each), one dispatch naming all users, ${rounds} rounds; the target includes the dispatch POST, the baseline only the send loop; clients share the process with the servers; p50 ${percentile(samples.target, 50).toFixed(1)} vs ${percentile(samples.baseline, 50).toFixed(1)} ms`,
        },
      ];
    } finally {
      for (const ws of sockets) ws.terminate();
      await gateway.stop();
      await new Promise((resolve) => bare.close(resolve));
      await server.close();
    }
  },
};

export default benchmark;

import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import { hashPassword } from '../src/server/auth/passwords.js';
import { createUser } from '../test/support/server.js';
import { type Benchmark, median } from './lib.js';
import { benchServer } from './support.js';

const run = promisify(execFile);
const AUTOCANNON = fileURLToPath(new URL('../node_modules/autocannon/autocannon.js', import.meta.url));

/** Requests per second from autocannon in its own process, so the load generator does not share our event loop. */
async function requestsPerSecond(
  url: string,
  seconds: number,
  headers: Record<string, string> = {},
): Promise<number> {
  const args = [AUTOCANNON, '--json', '-c', '100', '-p', '10', '-d', String(seconds)];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}=${value}`);
  args.push(url);
  const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  const result = JSON.parse(stdout) as {
    requests: { average: number };
    non2xx: number;
    errors: number;
  };
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${url}: ${result.non2xx} non-2xx responses, ${result.errors} errors`);
  return result.requests.average;
}

const benchmark: Benchmark = {
  name: 'http-overhead',
  description:
    'GET /auth/me with a PAT and anonymous GET /api/health against a bare Fastify route (autocannon -c 100 -p 10)',
  async run(ctx) {
    const seconds = ctx.smoke ? 1 : 4;
    const server = await benchServer(ctx.workDir);
    const user = await createUser(server.ctx, 'analyst');
    const health = JSON.stringify({
      status: 'healthy',
      version: server.ctx.version,
      timestamp: new Date().toISOString(),
    });
    const bare = Fastify({ logger: false });
    bare.get('/health', async (_request, reply) => reply.type('application/json').send(health));
    const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });
    try {
      // Rounds interleave the three targets, so drift in a shared machine's speed hits all alike;
      // each figure is the median over the rounds.
      const rounds = ctx.smoke ? 1 : 5;
      const samples = { baseline: [] as number[], health: [] as number[], me: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        samples.baseline.push(await requestsPerSecond(`${bareUrl}/health`, seconds));
        samples.health.push(await requestsPerSecond(`${server.url}/api/health`, seconds));
        samples.me.push(
          await requestsPerSecond(`${server.url}/auth/me`, seconds, { authorization: user.auth }),
        );
      }
      const baseline = median(samples.baseline);
      const healthRps = median(samples.health);
      const meRps = median(samples.me);
      const hashes: number[] = [];
      for (let i = 0; i < (ctx.smoke ? 2 : 10); i++) {
        const started = performance.now();
        await hashPassword(`benchmark-password-${i}`);
        hashes.push(performance.now() - started);
      }
      const note = `median of ${rounds} interleaved ${seconds}-s runs, 100 connections, pipelining 10, logs at warn; Argon2id hash median ${median(hashes).toFixed(1)} ms`;
      return [
        {
          metric: 'auth_me_rps',
          target: Math.round(meRps),
          baseline: Math.round(baseline),
          unit: 'req/s',
          op: '>=',
          limit: 0.5,
          note,
        },
        {
          metric: 'health_rps',
          target: Math.round(healthRps),
          baseline: Math.round(baseline),
          unit: 'req/s',
          op: '>=',
          limit: 0.8,
        },
      ];
    } finally {
      await bare.close();
      await server.close();
    }
  },
};

export default benchmark;

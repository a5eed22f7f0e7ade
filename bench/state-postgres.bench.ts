import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { adminQuery, startPostgresCluster } from '../test/support/postgres-cluster.js';
import type { TestServer } from '../test/support/server.js';
import { type Benchmark, type Metric, percentile } from './lib.js';
import { seedManifest } from './manifest.bench.js';
import { benchServer } from './support.js';

/** A request answered 200, timed in milliseconds. */
async function timed(url: string, auth: string): Promise<number> {
  const start = performance.now();
  const response = await fetch(url, { headers: { authorization: auth } });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}`);
  return performance.now() - start;
}

interface Instance {
  server: TestServer;
  auth: string;
}

const benchmark: Benchmark = {
  name: 'state-postgres',
  description:
    'p95 of GET /auth/me and GET /api/sync/manifest (the manifest benchmark’s data) with the state in PostgreSQL (a local throwaway cluster), vs the same on SQLite in the same run',
  async run(ctx) {
    const tables = ctx.smoke ? 200 : 5_000;
    const iterations = ctx.smoke ? 5 : 200;
    const cluster = await startPostgresCluster();
    const instances: Instance[] = [];
    try {
      await adminQuery(cluster.url, 'CREATE DATABASE agnes_bench');
      for (const [dir, env] of [
        ['sqlite', {}],
        ['postgres', { DATABASE_URL: `${cluster.url}agnes_bench` }],
      ] as const) {
        await mkdir(join(ctx.workDir, dir));
        const server = await benchServer(join(ctx.workDir, dir), {}, env);
        instances.push({ server, auth: await seedManifest(server.ctx, tables) });
      }
      const [sqlite, postgres] = instances as [Instance, Instance];
      const metrics: Metric[] = [];
      for (const [metric, path] of [
        ['auth_me_p95', '/auth/me'],
        ['manifest_p95', '/api/sync/manifest'],
      ] as const) {
        for (let i = 0; i < 10; i++) {
          await timed(`${sqlite.server.url}${path}`, sqlite.auth);
          await timed(`${postgres.server.url}${path}`, postgres.auth);
        }
        // Alternating requests, so drift in a shared machine's speed hits both alike.
        const onSqlite: number[] = [];
        const onPostgres: number[] = [];
        for (let i = 0; i < iterations; i++) {
          onSqlite.push(await timed(`${sqlite.server.url}${path}`, sqlite.auth));
          onPostgres.push(await timed(`${postgres.server.url}${path}`, postgres.auth));
        }
        metrics.push({
          metric,
          target: percentile(onPostgres, 95),
          baseline: percentile(onSqlite, 95),
          unit: 'ms',
          op: '<=',
          limit: 2,
          note: `${iterations} sequential requests each; p50 ${percentile(onPostgres, 50).toFixed(1)} ms on PostgreSQL, ${percentile(onSqlite, 50).toFixed(1)} ms on SQLite`,
        });
      }
      return metrics;
    } finally {
      for (const { server } of instances) await server.close();
      cluster.stop();
    }
  },
};

export default benchmark;

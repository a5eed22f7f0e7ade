import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sliceDir } from '../src/core/policies/slices.js';
import { call, createUser } from '../test/support/server.js';
import { type Benchmark, percentile } from './lib.js';
import { directFacts, postQuery, queryFixture } from './query-support.js';

const SUM = 'SELECT sum(v) AS total, count(*) AS n FROM facts';
/** `label` is `'label ' || (id % 100)`: id 4205 is in the reader's slice (labels 0–9). */
const POINT = 'SELECT * FROM facts WHERE id = 4205';
const LABELS = Array.from({ length: 10 }, (_, i) => `label ${i}`);

const benchmark: Benchmark = {
  name: 'policy-query',
  description:
    'POST /api/query (warm slice and sandbox) of a SUM by a reader bound by a row policy to 10% of a 10M-row table, against an unbound reader (an admin) summing the whole table; and the bound reader’s point lookup against DuckDB direct on the same slice file',
  async run(ctx) {
    const rows = ctx.smoke ? 20_000 : 10_000_000;
    const runs = ctx.smoke ? 3 : 60;
    const fixture = await queryFixture(ctx.workDir, rows);
    const { server } = fixture;
    const admin = await createUser(server.ctx, 'admin');
    const reader = await createUser(server.ctx, 'analyst');
    await server.ctx.repos.permissions.grantUser(reader.id, {
      dataset: 'facts',
      access: 'read',
      granted_by: admin.id,
    });
    // The real policy path: an attribute and a policy through the admin API, bound per request.
    const setup = [
      await call(server, 'PUT', `/api/admin/users/${reader.id}/attributes`, {
        auth: admin.auth,
        body: { attributes: { labels: LABELS } },
      }),
      await call(server, 'POST', '/api/admin/tables/facts/policies', {
        auth: admin.auth,
        body: {
          name: 'Ten labels',
          applies_to: { everyone: false, users: [reader.id], groups: [] },
          row_filter: 'list_contains({{user.attr.labels}}, label)',
          masked_columns: [],
        },
      }),
    ];
    for (const response of setup)
      if (response.status >= 300) throw new Error(`policy setup: ${response.status} ${response.text}`);

    const post = async (auth: string, sql: string) => {
      const response = await postQuery(server.url, auth, { sql });
      if (response.status !== 200) throw new Error(`${sql}: ${response.status} ${response.body}`);
      return JSON.parse(response.body) as { rows: unknown[][] };
    };
    // Warm-up: builds the slice and both sandboxes, and checks each reader sees what it should.
    const counted = async (auth: string) => Number((await post(auth, SUM)).rows[0]?.[1]);
    const [bound, unbound] = [await counted(reader.auth), await counted(admin.auth)];
    if (bound !== rows / 10 || unbound !== rows)
      throw new Error(`bound reader counts ${bound}, unbound ${unbound}; expected ${rows / 10} and ${rows}`);
    const slices = (await readdir(sliceDir(server.dataDir, 'facts'))).filter((f) => f.endsWith('.parquet'));
    if (slices.length !== 1) throw new Error(`expected one slice file, found ${slices.length}`);
    const { threads } = server.ctx.config.query;
    // Same thread count as the sandbox (its workers plus the calling thread), as in query-overhead.
    const direct = await directFacts(join(sliceDir(server.dataDir, 'facts'), slices[0]!), threads + 1);
    try {
      await post(reader.auth, POINT);
      await direct.conn.runAndReadAll(POINT);
      const times = {
        sum: [] as number[],
        sumFull: [] as number[],
        point: [] as number[],
        pointFull: [] as number[],
        direct: [] as number[],
      };
      const timed = async (into: number[], fn: () => Promise<unknown>) => {
        const start = performance.now();
        await fn();
        into.push(performance.now() - start);
      };
      for (let i = 0; i < runs; i++) {
        // Alternating which goes first, so drift in a shared machine's speed hits both alike.
        const sums = [
          () => timed(times.sum, () => post(reader.auth, SUM)),
          () => timed(times.sumFull, () => post(admin.auth, SUM)),
        ];
        for (const run of i % 2 === 0 ? sums : sums.reverse()) await run();
        await timed(times.point, () => post(reader.auth, POINT));
        await timed(times.direct, async () => {
          const result = await direct.conn.runAndReadAll(POINT);
          JSON.stringify({ columns: result.columnNames(), rows: result.getRowsJson() });
        });
        await timed(times.pointFull, () => post(admin.auth, POINT));
      }
      const p = (values: number[], q: number) => percentile(values, q);
      const pointOverhead = p(times.point, 95) - p(times.direct, 95);
      return [
        {
          metric: 'sum_p95',
          target: p(times.sum, 95),
          baseline: p(times.sumFull, 95),
          unit: 'ms',
          op: '<=',
          limit: 1.0,
          note: `${runs} interleaved runs; bound reader on ${(rows / 10).toLocaleString('en')} rows vs unbound on ${rows.toLocaleString('en')}; p50 ${p(times.sum, 50).toFixed(1)} vs ${p(times.sumFull, 50).toFixed(1)} ms`,
        },
        {
          metric: 'point_p95_overhead',
          target: p(times.point, 95),
          baseline: p(times.direct, 95),
          unit: 'ms',
          op: '<=',
          limit: 5,
          ratio: pointOverhead,
          note: `absolute limit as query-overhead.point_p95_overhead: p95 bound reader − p95 DuckDB direct on the slice file ≤ 5 ms, ratio = that difference in ms (${pointOverhead.toFixed(2)} ms); p50 ${p(times.point, 50).toFixed(2)} vs ${p(times.direct, 50).toFixed(2)} ms; the unbound reader's same lookup on the full table through the API, for what the policy path adds: p50 ${p(times.pointFull, 50).toFixed(2)}, p95 ${p(times.pointFull, 95).toFixed(2)} ms`,
        },
      ];
    } finally {
      direct.close();
      await fixture.close();
    }
  },
};

export default benchmark;

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { quoteLiteral } from '../src/core/duckdb/sql.js';
import { makeExtract } from '../test/support/extracts.js';
import { createUser } from '../test/support/server.js';
import { type Benchmark, percentile } from './lib.js';
import { type QueryLoadJob, type QueryLoadResult, runQueryLoad } from './query-load-client.js';
import { benchServer } from './support.js';

const TABLES = 10;

/** Every set of three of the ten tables (120). */
const TRIPLES: number[][] = [];
for (let a = 0; a < TABLES; a++)
  for (let b = a + 1; b < TABLES; b++) for (let c = b + 1; c < TABLES; c++) TRIPLES.push([a, b, c]);

/** Analyst `i` reads three of the ten tables, a set no other of the first 120 analysts has (7 is prime to 120). */
function grantedTables(i: number): number[] {
  return TRIPLES[(i * 7) % TRIPLES.length]!;
}

/** Four point lookups to one aggregation, over the analyst's own tables. */
function statementsOf(tables: number[], rows: number): string[] {
  return tables.flatMap((t, k) => [
    `SELECT * FROM facts_${t} WHERE id = ${(k * 7919 + t * 104_729) % rows}`,
    `SELECT * FROM facts_${t} WHERE id = ${(k * 15_485_863 + t) % rows}`,
    `SELECT label, sum(v) AS total, count(*) AS n FROM facts_${t} GROUP BY label ORDER BY label LIMIT 20`,
    `SELECT * FROM facts_${t} WHERE id = ${(k * 32_452_843 + 3 * t) % rows}`,
    `SELECT * FROM facts_${t} WHERE id = ${(k * 49_979_687 + 5 * t) % rows}`,
  ]);
}

/** The same mix straight on DuckDB: one instance, one connection per analyst, no HTTP, no guard. */
async function directLoad(files: string[], job: QueryLoadJob, threads: number): Promise<QueryLoadResult> {
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const setup = await instance.connect();
  for (const [t, file] of files.entries())
    await setup.run(`CREATE VIEW facts_${t} AS SELECT * FROM read_parquet(${quoteLiteral(file)})`);
  const result: QueryLoadResult = { latencies: [], elapsedMs: 0, retried: 0, failed: 0 };
  const connections = await Promise.all(job.analysts.map(() => instance.connect()));
  try {
    const start = performance.now();
    const deadline = start + job.seconds * 1000;
    await Promise.all(
      job.analysts.map(async (who, a) => {
        const conn = connections[a]!;
        for (let i = 0; performance.now() < deadline; i++) {
          const began = performance.now();
          const reader = await conn.runAndReadAll(who.statements[i % who.statements.length]!);
          JSON.stringify({ columns: reader.columnNames(), rows: reader.getRowsJson() });
          result.latencies.push(performance.now() - began);
        }
      }),
    );
    result.elapsedMs = performance.now() - start;
    return result;
  } finally {
    for (const conn of connections) conn.closeSync();
    setup.closeSync();
    instance.closeSync();
  }
}

const benchmark: Benchmark = {
  name: 'query-concurrency',
  description:
    '50 analysts with 50 different grant sets running point lookups and aggregations through POST /api/query for 30 s, against the same mix on one DuckDB instance with a connection per analyst',
  async run(ctx) {
    const analysts = ctx.smoke ? 3 : 50;
    const seconds = ctx.smoke ? 1 : 30;
    const rows = ctx.smoke ? 5_000 : 1_000_000;
    // A deployment for 50 analysts keeps a warm sandbox for each of their grant sets (05 §4); the
    // default of 16 is sized for a small team.
    const server = await benchServer(ctx.workDir, { query: { sandbox_cache_size: analysts + 4 } });
    try {
      await makeExtract(
        join(ctx.workDir, 'extracts'),
        'bench',
        Array.from({ length: TABLES }, (_, t) => ({
          name: `facts_${t}`,
          select: `SELECT range AS id, range % 1000 AS k, (range * 7 + ${t}) % 10007 AS v, 'label ' || (range % 100) AS label FROM range(${rows})`,
        })),
      );
      await server.ctx.orchestrator.rebuild();
      const files: string[] = [];
      for (let t = 0; t < TABLES; t++) {
        await server.ctx.repos.registry.register({
          id: `facts_${t}`,
          name: `facts_${t}`,
          source: 'bench',
          source_type: 'local',
        });
        const state = await server.ctx.repos.syncState.getState(`facts_${t}`);
        const file = state?.files[0];
        if (!file) throw new Error(`facts_${t} was not published`);
        files.push(join(ctx.workDir, file.path));
      }
      const admin = await createUser(server.ctx, 'admin');
      const job: QueryLoadJob = { url: server.url, seconds, analysts: [] };
      const sets = new Set<string>();
      for (let i = 0; i < analysts; i++) {
        const user = await createUser(server.ctx, 'analyst');
        const tables = grantedTables(i);
        sets.add([...tables].sort().join(','));
        for (const t of tables)
          await server.ctx.repos.permissions.grantUser(user.id, {
            dataset: `facts_${t}`,
            access: 'read',
            granted_by: admin.id,
          });
        job.analysts.push({ auth: user.auth, statements: statementsOf(tables, rows) });
      }
      const threads = server.ctx.config.query.threads + 1;
      const baseline = await directLoad(files, job, threads);
      const target = await runQueryLoad(job);
      if (target.failed > 0) throw new Error(`${target.failed} queries failed`);
      const throughput = (r: QueryLoadResult) => r.latencies.length / (r.elapsedMs / 1000);
      const note = `${analysts} analysts, ${sets.size} grant sets, ${TABLES} tables of ${rows.toLocaleString('en')} rows, ${seconds} s; ${target.latencies.length} queries (${target.retried} retried after 429) vs ${baseline.latencies.length}; p50 ${percentile(target.latencies, 50).toFixed(1)} vs ${percentile(baseline.latencies, 50).toFixed(1)} ms`;
      return [
        {
          metric: 'p95',
          target: percentile(target.latencies, 95),
          baseline: percentile(baseline.latencies, 95),
          unit: 'ms',
          op: '<=',
          limit: 3,
          note,
        },
        {
          metric: 'throughput',
          target: Math.round(throughput(target)),
          baseline: Math.round(throughput(baseline)),
          unit: 'q/s',
          op: '>=',
          limit: 0.33,
          note: 'no limit in 10 §1; 3× the p95 and a third of the throughput of bare DuckDB are tripwires',
        },
      ];
    } finally {
      await server.close();
    }
  },
};

export default benchmark;

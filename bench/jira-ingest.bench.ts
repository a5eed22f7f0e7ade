import { mkdir, open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CUSTOM_FIELDS, ENTITIES, type Entity, tableColumns } from '../src/connectors/jira/tables.js';
import { type IssueRows, type RawIssue, transformIssue } from '../src/connectors/jira/transform.js';
import { openDuck } from '../src/core/duckdb/engine.js';
import { quoteLiteral } from '../src/core/duckdb/sql.js';
import { PARQUET_COPY_OPTIONS } from '../src/core/extract/contract.js';
import { fakeIssue, issueEvent } from '../test/fakes/jira.js';
import { WEBHOOK_SECRET } from '../test/support/jira.js';
import { createUser, type TestServer, withServer } from '../test/support/server.js';
import { createdFor, startLoad } from './jira-load.js';
import { type Benchmark, type Metric, percentile } from './lib.js';

/**
 * `jira-ingest` (10 §1): signed webhook events through the whole push path — intake with its
 * fsynced inbox, the worker fetching every issue from a fake Jira Cloud (changelog, comments,
 * remote links), raw documents, monthly shard rewrites, `rebuildSource` — until the rows answer
 * in `POST /api/query`. The fake and the senders run in a child process.
 *
 * - `throughput`: 10,000 `jira:issue_created` events (distinct issues, 50 senders), events per
 *   second from the first post until all are queryable. Baseline: DuckDB in one process
 *   appending the same rows (the six tables, transformed from the same documents) to the same
 *   monthly Parquet shards, in batches of 100 as the worker takes them. Limit ≥ 0.5×.
 * - `latency_p95`: 3,000 further events at 100 per second; for each, the time from its 2xx to the
 *   first `/api/query` answer that holds its row. Limit ≤ 5 s (absolute).
 */

const BATCH = 100;
const MONTHS = 3;

async function queryKeys(server: TestServer, auth: string, sql: string): Promise<string[]> {
  const response = await fetch(`${server.url}/api/query`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/json' },
    body: JSON.stringify({ sql, limit: 100_000 }),
  });
  // Before the first publication the table does not exist yet.
  if (response.status !== 200) return [];
  const body = (await response.json()) as { rows: unknown[][] };
  return body.rows.map((r) => String(r[0]));
}

/** The baseline: the same rows appended to the same monthly shards with DuckDB, `BATCH` issues at a time. */
async function baseline(dir: string, issues: readonly IssueRows[]): Promise<number> {
  const columns = tableColumns(DEFAULT_CUSTOM_FIELDS);
  const duck = await openDuck(':memory:', { memoryLimit: '512MB', threads: 2 });
  const started = performance.now();
  try {
    for (let start = 0; start < issues.length; start += BATCH) {
      const batch = issues.slice(start, start + BATCH);
      for (const entity of ENTITIES) {
        const byMonth = new Map<string, Record<string, unknown>[]>();
        for (const issue of batch)
          for (const row of issue.rows[entity])
            byMonth.set(issue.month, [...(byMonth.get(issue.month) ?? []), row]);
        for (const [month, rows] of byMonth) {
          const path = join(dir, entity, `${month}.parquet`);
          await mkdir(join(dir, entity), { recursive: true });
          await appendRows(duck.conn, columns[entity], rows, path);
        }
      }
    }
    return performance.now() - started;
  } finally {
    duck.close();
  }
}

async function appendRows(
  conn: Awaited<ReturnType<typeof openDuck>>['conn'],
  columns: ReturnType<typeof tableColumns>[Entity],
  rows: Record<string, unknown>[],
  path: string,
): Promise<void> {
  const struct = JSON.stringify([
    Object.fromEntries(
      columns.map((c) => [c.name, c.type === 'TIMESTAMPTZ' || c.type === 'DATE' ? 'VARCHAR' : c.type]),
    ),
  ]);
  const select = `SELECT ${columns.map((c) => `CAST(r."${c.name}" AS ${c.type}) AS "${c.name}"`).join(', ')} FROM (SELECT unnest(json_transform($1::JSON, ${quoteLiteral(struct)})) AS r)`;
  const exists = await stat(path).catch(() => null);
  const source = exists
    ? `SELECT * FROM read_parquet(${quoteLiteral(path)}) UNION ALL BY NAME ${select}`
    : select;
  await conn.run(`COPY (${source}) TO ${quoteLiteral(`${path}.tmp`)} (${PARQUET_COPY_OPTIONS})`, [
    JSON.stringify(rows),
  ]);
  await rename(`${path}.tmp`, path);
}

/** 10 §1's baseline for the intake: the same payloads written with `fs` + `fsync`, 50 at a time; per-write times. */
async function fsyncWrites(dir: string, payloads: readonly string[], concurrency: number): Promise<number[]> {
  await mkdir(dir, { recursive: true });
  const times: number[] = new Array(payloads.length).fill(0);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < payloads.length) {
        const i = next++;
        const started = performance.now();
        const handle = await open(join(dir, `${i}.json`), 'w');
        await handle.writeFile(payloads[i] as string);
        await handle.sync();
        await handle.close();
        times[i] = performance.now() - started;
      }
    }),
  );
  return times;
}

/**
 * The issues as the worker stores them, built the way the load process's fake serves them (the
 * `n`-th issue overall gets the `n`-th creation date), transformed to the six tables' rows.
 */
function rowsOf(count: number, prefix: string): IssueRows[] {
  const now = new Date().toISOString();
  return Array.from({ length: count }, (_, i) => {
    const issue = fakeIssue({
      key: `${prefix}-${i + 1}`,
      created: createdFor(i, MONTHS),
      changes: 3,
      comments: 2,
    });
    const doc: RawIssue = {
      id: issue.id,
      key: issue.key,
      fields: issue.fields,
      _synced_at: now,
      _comments: issue.comments,
      _changelog: issue.changelog,
      _remote_links: issue.remoteLinks,
    };
    return transformIssue(doc, {
      baseUrl: 'http://jira.invalid',
      customFields: DEFAULT_CUSTOM_FIELDS,
      slaFields: { first_response: 'customfield_10328', time_to_resolution: 'customfield_10161' },
    });
  });
}

const bench: Benchmark = {
  name: 'jira-ingest',
  description: 'signed Jira webhooks → fake Jira fetches → monthly shards → rows in /api/query',
  async run(ctx): Promise<Metric[]> {
    const burst = ctx.smoke ? 300 : 10_000;
    const paced = ctx.smoke ? 200 : 3_000;
    const rate = 100;
    const load = await startLoad({ issues: { BEN: burst, LAT: paced }, months: MONTHS });
    const high = { max: 100_000_000, window_seconds: 60 };
    await mkdir(join(ctx.workDir, 'app'));
    const server = await withServer({
      dataDir: join(ctx.workDir, 'app'),
      config: {
        server: { log_level: 'warn' },
        auth: { rate_limits: { default: high, query: high, webhook: high } },
        jira: {
          base_url: load.url,
          email: load.account.email,
          api_token: load.account.token,
          webhook_secret: WEBHOOK_SECRET,
        },
      },
      startServices: true,
    });
    try {
      const admin = await createUser(server.ctx, 'admin');
      const visible = (prefix: string) =>
        queryKeys(server, admin.auth, `SELECT issue_key FROM issues WHERE issue_key LIKE '${prefix}-%'`);
      // Counting costs the server little while it ingests; the keys are read only for the paced run.
      const count = async (prefix: string) =>
        Number(
          (
            await queryKeys(
              server,
              admin.auth,
              `SELECT count(*) FROM issues WHERE issue_key LIKE '${prefix}-%'`,
            )
          )[0] ?? 0,
        );

      // Throughput: everything at once, until all rows answer.
      const started = Date.now();
      const sent = await load.run({
        kind: 'burst',
        url: server.url,
        secret: WEBHOOK_SECRET,
        prefix: 'BEN',
        count: burst,
        concurrency: 50,
      });
      if (sent.failures > 0) throw new Error(`${sent.failures} webhook posts failed`);
      while ((await count('BEN')) < burst) await new Promise((resolve) => setTimeout(resolve, 100));
      const throughputMs = Date.now() - started;

      // Latency at a steady rate: poll /api/query while the events arrive.
      const seenAt = new Map<string, number>();
      let polling = true;
      const poller = (async () => {
        while (polling) {
          const now = Date.now();
          for (const key of await visible('LAT')) if (!seenAt.has(key)) seenAt.set(key, now);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })();
      const pacedRun = await load.run({
        kind: 'paced',
        url: server.url,
        secret: WEBHOOK_SECRET,
        prefix: 'LAT',
        count: paced,
        rate,
      });
      if (pacedRun.failures > 0) throw new Error(`${pacedRun.failures} webhook posts failed`);
      const deadline = Date.now() + 60_000;
      while (seenAt.size < paced && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      polling = false;
      await poller;
      const latencies = pacedRun.acceptedAt.map(
        (at, i) => (seenAt.get(`LAT-${i + 1}`) ?? Number.POSITIVE_INFINITY) - at,
      );

      const baselineMs = await baseline(join(ctx.workDir, 'baseline'), rowsOf(burst, 'BEN'));
      const payloads = rowsOf(burst, 'BEN').map((r) =>
        JSON.stringify(issueEvent('jira:issue_created', { id: '1', key: r.key })),
      );
      const fsyncTimes = await fsyncWrites(join(ctx.workDir, 'fsync'), payloads, 50);
      const p95 = percentile(latencies, 95);
      return [
        {
          metric: 'intake_p95',
          target: Math.round(percentile(sent.durations, 95)),
          baseline: Math.round(percentile(fsyncTimes, 95)),
          unit: ' ms',
          op: '<=',
          limit: 3,
          note: `10 §1: time to 200 of the ${burst} signed posts, 50 concurrent, while the worker runs; baseline writes the same payloads with fs + fsync, 50 concurrent`,
        },
        {
          metric: 'throughput',
          target: Math.round((burst / throughputMs) * 1000),
          baseline: Math.round((burst / baselineMs) * 1000),
          unit: ' events/s',
          op: '>=',
          limit: 0.5,
          note: `${burst} events until queryable in ${throughputMs} ms; baseline appends the same rows in batches of ${BATCH}`,
        },
        {
          metric: 'latency_p95',
          target: Math.round(p95),
          baseline: 5000,
          unit: ' ms',
          op: '<=',
          limit: 1,
          note: `${paced} events at ${rate}/s, 2xx → row in /api/query; p50 ${Math.round(percentile(latencies, 50))} ms; absolute limit 5 s`,
        },
      ];
    } finally {
      await server.close();
      await load.close();
    }
  },
};

export default bench;

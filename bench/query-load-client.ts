import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * The load generator of `query-concurrency`, run as a child process so the analysts' requests do
 * not share the event loop of the server being measured. Each analyst runs its statements in
 * turn, one request at a time, until the time is up; a 429 is retried after its `Retry-After`
 * (the `da` CLI does the same) and counted.
 */

export interface QueryLoadJob {
  url: string;
  seconds: number;
  analysts: { auth: string; statements: string[] }[];
}

export interface QueryLoadResult {
  /** Milliseconds of each answered query, retries included. */
  latencies: number[];
  elapsedMs: number;
  retried: number;
  failed: number;
}

async function analyst(job: QueryLoadJob, who: QueryLoadJob['analysts'][number], result: QueryLoadResult) {
  const deadline = performance.now() + job.seconds * 1000;
  for (let i = 0; performance.now() < deadline; i++) {
    const sql = who.statements[i % who.statements.length];
    const start = performance.now();
    for (;;) {
      const response = await fetch(`${job.url}/api/query`, {
        method: 'POST',
        headers: { authorization: who.auth, 'content-type': 'application/json' },
        body: JSON.stringify({ sql }),
      });
      await response.arrayBuffer();
      if (response.status === 429) {
        result.retried += 1;
        await new Promise((resolve) =>
          setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000),
        );
        continue;
      }
      if (response.status === 200) result.latencies.push(performance.now() - start);
      else result.failed += 1;
      break;
    }
  }
}

async function main(job: QueryLoadJob): Promise<QueryLoadResult> {
  const result: QueryLoadResult = { latencies: [], elapsedMs: 0, retried: 0, failed: 0 };
  const start = performance.now();
  await Promise.all(job.analysts.map((who) => analyst(job, who, result)));
  result.elapsedMs = performance.now() - start;
  return result;
}

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Runs the load in a fresh child process and returns what it measured. */
export async function runQueryLoad(job: QueryLoadJob): Promise<QueryLoadResult> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', SELF], {
    cwd: ROOT,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, QUERY_LOAD_JOB: JSON.stringify(job) },
  });
  return JSON.parse(stdout) as QueryLoadResult;
}

if (process.argv[1] === SELF) {
  const job = JSON.parse(process.env.QUERY_LOAD_JOB ?? '{}') as QueryLoadJob;
  process.stdout.write(JSON.stringify(await main(job)));
}

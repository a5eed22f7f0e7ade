import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/core/config/index.js';
import type { SourceDefinition } from '../../../src/core/config/sources.js';
import type { ExtractInput } from '../../../src/core/extract/connector.js';
import { validateExtract } from '../../../src/core/extract/validator.js';
import { type ExtractorCommand, runExtractorChild } from '../../../src/core/jobs/extract-child.js';
import { silentLogger } from '../../../src/core/jobs/logger.js';
import { JobRunner } from '../../../src/core/jobs/runner.js';
import type { SyncJobReport } from '../../../src/core/jobs/sync-job.js';
import { SyncOrchestrator } from '../../../src/core/orchestrator/orchestrator.js';
import { orchestratorStateStore } from '../../../src/core/orchestrator/state-store.js';
import { AGNES_BIN } from '../../../src/core/package-info.js';
import { openStateDb, type StateDb } from '../../../src/core/state/db.js';
import { migrateToLatest } from '../../../src/core/state/migrate.js';
import {
  createRepositories,
  type Job,
  type Repositories,
} from '../../../src/core/state/repositories/index.js';
import { tempDir } from '../../support/extracts.js';
import { until } from '../../support/processes.js';

/**
 * The sync pipeline with real processes (01 §5, 07 §0): a JobRunner persisting jobs in a real
 * state store, the compiled `agnes extract --stdin-config` as the extractor child, the real
 * orchestrator and the profiler.
 */

const AGNES_EXTRACTOR: ExtractorCommand = {
  command: process.execPath,
  args: [AGNES_BIN, 'extract', '--stdin-config'],
};
const CHILD_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

let root: string;
let dataDir: string;
let inputs: string;
let db: StateDb;
let repos: Repositories;
let orchestrator: SyncOrchestrator;
let runners: JobRunner[];
let cleanup: () => Promise<void>;

beforeEach(async () => {
  ({ path: root, cleanup } = await tempDir('agnes-sync-'));
  dataDir = join(root, 'data');
  inputs = join(root, 'inputs');
  await mkdir(inputs);
  db = openStateDb(dataDir);
  await migrateToLatest(db);
  repos = createRepositories(db);
  orchestrator = new SyncOrchestrator({ dataDir, state: orchestratorStateStore(db), env: {} });
  runners = [];
});

afterEach(async () => {
  for (const runner of runners) await runner.shutdown();
  await db.destroy();
  await cleanup();
});

function runner(
  options: { extractor?: ExtractorCommand; sources?: SourceDefinition[]; timeoutMs?: number } = {},
): JobRunner {
  const profiler = loadConfig({ env: {}, cwd: root }).config.profiler;
  const created = new JobRunner({
    repos,
    orchestrator,
    dataDir,
    sources: options.sources ?? [{ name: 'files', type: 'local', config: { path: inputs } }],
    extractor: options.extractor ?? AGNES_EXTRACTOR,
    extractTimeoutMs: options.timeoutMs ?? 60_000,
    env: CHILD_ENV,
    profile: { repos, dataDir, options: profiler, log: silentLogger },
    log: silentLogger,
    parallel: 2,
    claims: { instanceId: 'test-replica', exclusive: true, heartbeatMs: 30_000 },
  });
  runners.push(created);
  return created;
}

async function writeInputs(): Promise<void> {
  await writeFile(join(inputs, 'orders.csv'), 'order_id,customer_id,amount\n1,10,9.5\n2,11,20\n3,10,7.25\n');
  await writeFile(join(inputs, 'customers.csv'), 'customer_id,name\n10,Ada\n11,Alan\n');
  await mkdir(join(inputs, 'events'));
  await writeFile(join(inputs, 'events', '2024-01.csv'), 'event_id,kind\n1,open\n2,click\n');
  await writeFile(join(inputs, 'events', '2024-02.csv'), 'event_id,kind\n3,close\n');
}

async function sync(target: JobRunner, request: { source?: string; tables?: string[] } = {}): Promise<Job> {
  const job = await target.enqueueSync({ source: request.source ?? 'files', tables: request.tables });
  return target.waitFor(job.id);
}

const reportOf = (job: Job) => job.report as unknown as SyncJobReport;

const fileHash = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A child that records its pid and then never finishes. */
function hangingExtractor(pidFile: string): ExtractorCommand {
  return {
    command: process.execPath,
    args: [
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`,
    ],
  };
}

async function changedHistory(): Promise<string[]> {
  const history = await repos.syncState.listHistory({ source: 'files' }, { page: 1, per_page: 200 });
  return history.items
    .filter((h) => h.status === 'changed')
    .map((h) => h.table_id ?? '')
    .sort();
}

describe('sync jobs end to end', () => {
  it('extracts in a child, publishes, records state and history, and profiles the tables', async () => {
    await writeInputs();
    const job = await sync(runner());
    expect(job.status).toBe('succeeded');
    expect(job.error).toBeNull();
    expect(job.started_at).not.toBeNull();
    expect(job.finished_at).not.toBeNull();

    const report = reportOf(job);
    expect(report.extract_error).toBeNull();
    expect(report.extract?.tables_extracted).toEqual(['customers', 'events', 'orders']);
    expect(report.extract?.tables_failed).toEqual([]);
    expect(report.rebuild.generation).toBe(await orchestrator.currentGeneration());
    expect(report.rebuild.generation).toBeGreaterThanOrEqual(1);
    expect(report.rebuild.source).toMatchObject({ status: 'ok', tables: ['customers', 'events', 'orders'] });
    expect([...report.profiles.profiled].sort()).toEqual(['customers', 'events', 'orders']);
    expect(report.profiles.failed).toEqual([]);
    expect(report.watermarks).toEqual({});

    const states = await repos.syncState.listStates({ source: 'files' });
    expect(states.map((s) => [s.table_id, s.status, s.layout, s.query_mode, s.rows, s.files.length])).toEqual(
      [
        ['customers', 'ok', 'single', 'local', 2, 1],
        ['events', 'ok', 'multi', 'local', 3, 2],
        ['orders', 'ok', 'single', 'local', 3, 1],
      ],
    );
    for (const state of states) {
      expect(state.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(state.last_sync).not.toBeNull();
      expect(state.extracted_at).not.toBeNull();
      expect(state.updated_generation).toBe(report.rebuild.generation);
    }

    const profiles = await repos.profiles.list();
    expect(profiles.map((p) => p.table_id)).toEqual(['customers', 'events', 'orders']);
    for (const profile of profiles) {
      expect(profile.source_hash).toBe(states.find((s) => s.table_id === profile.table_id)?.hash);
      expect(profile.profile).toBeTypeOf('object');
    }

    expect(await changedHistory()).toEqual(['customers', 'events', 'orders']);
    const sourceRows = (await repos.syncState.listHistory({ source: 'files' })).items.filter(
      (h) => h.table_id === null,
    );
    expect(sourceRows.map((h) => h.status)).toEqual(['ok']);
    expect((await validateExtract(join(dataDir, 'extracts', 'files'))).ok).toBe(true);
  });

  it('profiles nothing and records no changes when the inputs did not change', async () => {
    await writeInputs();
    const jobs = runner();
    await sync(jobs);
    const statesBefore = await repos.syncState.listStates({ source: 'files' });
    const profilesBefore = await repos.profiles.list();

    const second = await sync(jobs);
    expect(second.status).toBe('succeeded');
    const report = reportOf(second);
    expect(report.profiles.profiled).toEqual([]);
    expect([...report.profiles.skipped].sort()).toEqual(['customers', 'events', 'orders']);
    expect(await changedHistory()).toEqual(['customers', 'events', 'orders']);
    const statesAfter = await repos.syncState.listStates({ source: 'files' });
    expect(statesAfter.map((s) => [s.table_id, s.hash, s.last_sync, s.extracted_at])).toEqual(
      statesBefore.map((s) => [s.table_id, s.hash, s.last_sync, s.extracted_at]),
    );
    expect(await repos.profiles.list()).toEqual(profilesBefore);

    // One changed input: only its table is profiled again and recorded as changed.
    await writeFile(join(inputs, 'orders.csv'), 'order_id,customer_id,amount\n1,10,9.5\n');
    const third = await sync(jobs);
    expect(reportOf(third).profiles.profiled).toEqual(['orders']);
    expect(await changedHistory()).toEqual(['customers', 'events', 'orders', 'orders']);
    expect((await repos.syncState.getState('orders'))?.rows).toBe(1);
    expect((await repos.profiles.get('orders'))?.source_hash).toBe(
      (await repos.syncState.getState('orders'))?.hash,
    );
  });

  it('does not profile a registered table with profile_after_sync off', async () => {
    await writeInputs();
    await repos.registry.register({
      id: 'orders',
      name: 'orders',
      source: 'files',
      source_type: 'local',
      profile_after_sync: false,
    });
    const job = await sync(runner());
    expect(job.status).toBe('succeeded');
    const { profiles } = reportOf(job);
    expect([...profiles.profiled].sort()).toEqual(['customers', 'events']);
    expect(profiles.skipped).toContain('orders');
    expect(await repos.profiles.get('orders')).toBeUndefined();
    // The table itself is synced as usual.
    expect((await repos.syncState.getState('orders'))?.status).toBe('ok');
  });

  it('fails a job for a source that is not configured', async () => {
    const job = await sync(runner(), { source: 'nope' });
    expect(job.status).toBe('failed');
    expect(job.error).toBe('source nope is not configured');
    expect(job.report).toBeNull();
  });

  it('fails a job whose input directory is missing and keeps the previous publication', async () => {
    await writeInputs();
    const jobs = runner();
    const first = await sync(jobs);
    expect(first.status).toBe('succeeded');
    const statesBefore = await repos.syncState.listStates({ source: 'files' });
    const extractBefore = await fileHash(join(dataDir, 'extracts', 'files', 'extract.duckdb'));

    await rename(inputs, join(root, 'moved-away'));
    const second = await sync(jobs);
    expect(second.status).toBe('failed');
    expect(second.error).toContain('extract_failed');
    const report = reportOf(second);
    expect(report.extract?.tables_extracted).toEqual([]);
    expect(report.extract?.tables_failed).toEqual([
      { table: '*', code: 'extract_failed', message: 'local source files: input directory does not exist' },
    ]);
    expect(JSON.stringify(second)).not.toContain(root);

    // Previous publication intact: same extract file, same state, every table still published.
    expect(await fileHash(join(dataDir, 'extracts', 'files', 'extract.duckdb'))).toBe(extractBefore);
    const statesAfter = await repos.syncState.listStates({ source: 'files' });
    expect(statesAfter.map((s) => [s.table_id, s.status, s.hash])).toEqual(
      statesBefore.map((s) => [s.table_id, s.status, s.hash]),
    );
    expect(report.rebuild.source).toMatchObject({ status: 'ok', tables: ['customers', 'events', 'orders'] });
    expect((await orchestrator.published())?.views).toBe(3);
    expect((await validateExtract(join(dataDir, 'extracts', 'files'))).ok).toBe(true);
  });

  it('fails a job whose extractor prints no result, keeping the previous publication', async () => {
    await writeInputs();
    expect((await sync(runner())).status).toBe('succeeded');
    const statesBefore = await repos.syncState.listStates({ source: 'files' });
    const garbage = runner({
      extractor: { command: process.execPath, args: ['-e', 'console.log("no json here")'] },
    });
    const job = await sync(garbage);
    expect(job.status).toBe('failed');
    expect(job.error).toBe('extractor exited with code 0 without a result');
    expect(reportOf(job).extract).toBeNull();
    expect((await repos.syncState.listStates({ source: 'files' })).map((s) => s.hash)).toEqual(
      statesBefore.map((s) => s.hash),
    );
  });
});

describe('the job queue', () => {
  it('merges requests for a source into its one queued job', async () => {
    const pidFile = join(root, 'extractor.pid');
    const jobs = runner({ extractor: hangingExtractor(pidFile) });
    const running = await jobs.enqueueSync({ source: 'files' });
    await until(async () => (await repos.jobs.get(running.id))?.status === 'running', 'the first job to run');

    // Two requests at once while nothing is queued yet: one queued job.
    const [queued, concurrent] = await Promise.all([
      jobs.enqueueSync({ source: 'files', tables: ['orders'] }),
      jobs.enqueueSync({ source: 'files', tables: ['customers'] }),
    ]);
    expect(queued.id).not.toBe(running.id);
    expect(queued.status).toBe('queued');
    expect(concurrent.id).toBe(queued.id);
    const merged = await jobs.enqueueSync({ source: 'files', tables: ['customers', 'orders', 'events'] });
    expect(merged.id).toBe(queued.id);
    expect(merged.tables).toEqual(['orders', 'customers', 'events']);

    // A request for every table widens the queued job instead of queueing a second one.
    const everything = await jobs.enqueueSync({ source: 'files' });
    expect(everything.id).toBe(queued.id);
    expect(everything.tables).toEqual([]);
    const narrower = await jobs.enqueueSync({ source: 'files', tables: ['events'] });
    expect(narrower.id).toBe(queued.id);
    expect(narrower.tables).toEqual([]);

    const active = await repos.jobs.findActive('files');
    expect(active.map((j) => [j.id, j.status])).toEqual([
      [running.id, 'running'],
      [queued.id, 'queued'],
    ]);
    // Another source queues independently.
    const other = await jobs.enqueueSync({ source: 'elsewhere' });
    expect(other.id).not.toBe(queued.id);
  });

  it('marks a running job interrupted on shutdown and kills its extractor', async () => {
    const pidFile = join(root, 'extractor.pid');
    const jobs = runner({ extractor: hangingExtractor(pidFile) });
    const job = await jobs.enqueueSync({ source: 'files' });
    const pid = Number(
      await until(
        async () => existsSync(pidFile) && (await readFile(pidFile, 'utf8')),
        'the extractor to start',
      ),
    );
    expect(isAlive(pid)).toBe(true);
    const waiting = jobs.waitFor(job.id);

    await jobs.shutdown();
    const stored = await repos.jobs.get(job.id);
    expect(stored?.status).toBe('interrupted');
    expect(stored?.finished_at).not.toBeNull();
    expect((await waiting).status).toBe('interrupted');
    await until(async () => !isAlive(pid), 'the extractor to exit', 5_000);
    expect(isAlive(pid)).toBe(false);

    // A stopped runner takes no more work.
    const later = await jobs.enqueueSync({ source: 'files' });
    expect((await repos.jobs.get(later.id))?.status).toBe('queued');
  });
});

describe('runExtractorChild', () => {
  const input = (): ExtractInput => ({
    source: 'files',
    type: 'local',
    extractDir: join(dataDir, 'extracts', 'files'),
    fullRefresh: false,
    tables: [],
    config: { path: inputs },
  });

  it('kills a child that outlives its timeout', async () => {
    const pidFile = join(root, 'hang.pid');
    const started = Date.now();
    const outcome = await runExtractorChild(hangingExtractor(pidFile), input(), {
      timeoutMs: 1_000,
      env: CHILD_ENV,
    });
    expect(outcome.timedOut).toBe(true);
    expect(outcome.result).toBeNull();
    expect(outcome.exitCode).toBeNull();
    expect(outcome.error).toBe('extractor timed out after 1 s');
    expect(Date.now() - started).toBeLessThan(5_000);
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(isAlive(pid)).toBe(false);
  });

  it('passes the input on stdin and returns the last stdout line as the result', async () => {
    await writeFile(join(inputs, 'orders.csv'), 'id\n1\n');
    const lines: string[] = [];
    const outcome = await runExtractorChild(AGNES_EXTRACTOR, input(), {
      timeoutMs: 60_000,
      env: CHILD_ENV,
      onProgress: (line) => lines.push(line),
    });
    expect(outcome).toMatchObject({ exitCode: 0, error: null, timedOut: false });
    expect(outcome.result?.tables_extracted).toEqual(['orders']);
    expect(lines).toContain('files.orders: 1 input file(s)');
  });

  it.each([
    [
      'prints garbage',
      'console.log("not json"); console.log("{also not json")',
      'extractor exited with code 0 without a result',
      0,
    ],
    [
      'prints JSON that is not a result',
      'console.log(JSON.stringify({ ok: true }))',
      'extractor exited with code 0 without a result',
      0,
    ],
    ['crashes', 'process.exit(3)', 'extractor exited with code 3 without a result', 3],
    ['is killed', 'process.kill(process.pid, "SIGKILL")', 'extractor was killed by SIGKILL', null],
  ])('reports a child that %s with a clear error', async (_what, script, error, exitCode) => {
    const outcome = await runExtractorChild({ command: process.execPath, args: ['-e', script] }, input(), {
      timeoutMs: 10_000,
      env: CHILD_ENV,
    });
    expect(outcome).toEqual({ exitCode, result: null, error, timedOut: false });
  });

  it('reports an extractor that cannot be started', async () => {
    const outcome = await runExtractorChild({ command: join(root, 'no-such-binary'), args: [] }, input(), {
      timeoutMs: 10_000,
      env: CHILD_ENV,
    });
    expect(outcome).toEqual({
      exitCode: null,
      result: null,
      error: 'extractor could not be started',
      timedOut: false,
    });
  });
});

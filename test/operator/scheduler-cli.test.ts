import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createRepositories, type Job } from '../../src/core/state/repositories/index.js';
import { generatePat } from '../../src/server/auth/pat.js';
import { ManualClock } from '../core/state/repositories/fresh-store.js';
import { fakeConnector } from '../support/connectors.js';
import {
  type ChildRun,
  hostEnv,
  killIfRunning,
  runAgnes,
  spawnAgnes,
  until,
  within,
} from '../support/processes.js';
import { createUser, type ServerOptions, type TestServer, withServer } from '../support/server.js';

const MINUTE = 60_000;

interface LogLine {
  level: number;
  msg: string;
  service?: string;
  [field: string]: unknown;
}

/**
 * `agnes scheduler` as its own process against the real app (08 §1.3, §9, 10 R12). The app runs
 * on a manual clock, which the scheduler takes as its time (`server_time`), so the test decides
 * what is due; the app's job runner runs every triggered sync in an extractor child, and its start
 * becomes the table's `last_run_at`.
 */
describe('agnes scheduler', () => {
  let server: TestServer;
  let port: number;
  let dir: string;
  let scheduler: ChildRun;
  let serviceUserId: string;
  const tokens: { id: string; token: string }[] = [];
  const clock = new ManualClock('2026-03-15T11:55:00.000Z'); // a Sunday

  // Two sources of the test-only connector, which the extractor child of test/support knows.
  const serverOptions = (): ServerOptions => ({
    connectors: [fakeConnector({ type: 'acme' })],
    sources: [
      { name: 'acme', type: 'acme', config: { rows: 3 } },
      { name: 'zeta', type: 'acme', config: { rows: 3 } },
    ],
    extractor: {
      command: process.execPath,
      args: ['--import', 'tsx', join(import.meta.dirname, '..', 'support', 'extract-child.ts')],
    },
    config: { scheduler: { in_process: false } },
    clock,
    dataDir: join(dir, 'app'),
  });

  const logs = (): LogLine[] =>
    scheduler.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as LogLine);
  const logged = (msg: string) => logs().filter((line) => line.msg === msg);
  /** Triggers of table syncs; maintenance, due at the first tick, is triggered beside them. */
  const syncTriggers = () => logged('triggered').filter((line) => line.source !== undefined);
  const syncJobs = async (): Promise<Job[]> =>
    (await server.ctx.repos.jobs.list({ kind: 'sync' })).items.reverse();

  /** The jobs the scheduler started, as `source tables status`, once the job runner has run them all. */
  async function settledJobs(): Promise<string[]> {
    const jobs = await until(async () => {
      const all = (await syncJobs()).filter((j) => j.requested_by === serviceUserId);
      return all.every((j) => j.status !== 'queued' && j.status !== 'running') && all;
    }, 'the triggered jobs to finish');
    return jobs.map((j) => `${j.source} ${j.tables.join(',')} ${j.status}`);
  }

  async function newToken(): Promise<string> {
    const pat = generatePat();
    const created = await server.ctx.repos.tokens.create({
      user_id: serviceUserId,
      name: `scheduler ${tokens.length}`,
      token_hash: pat.hash,
      prefix: pat.prefix,
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    tokens.push({ id: created.id, token: pat.token });
    await writeFile(join(dir, 'token'), `${pat.token}\n`);
    return pat.token;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agnes-scheduler-'));
    await mkdir(join(dir, 'app'));
    server = await withServer(serverOptions());
    port = Number(new URL(server.url).port);
    serviceUserId = (await createUser(server.ctx, 'admin', { service: true })).id;
    const { registry, jobs } = server.ctx.repos;
    const table = (id: string, source: string, sync_schedule: string | null) =>
      registry.register({ id, name: id, source, source_type: source, sync_schedule });
    await table('orders', 'acme', 'every 15m');
    await table('customers', 'acme', null);
    await table('products', 'acme', 'manual');
    await table('leads', 'acme', 'daily 06:00');
    await table('tickets', 'zeta', '30 2 * * 1-5');
    await table('notes', 'zeta', 'every 6h');
    // orders last started at 11:55; leads yesterday at 06:00; tickets at Friday's 02:30 slot.
    const startedAt = async (source: string, tables: string[], at?: string) => {
      const repo = at ? createRepositories(server.ctx.db, new ManualClock(at)).jobs : jobs;
      const job = await repo.create({ kind: 'sync', requested_by: null, source, tables });
      await repo.markRunning(job.id);
      await repo.finish(job.id, { status: 'succeeded', report: null, error: null });
    };
    await startedAt('acme', ['orders']);
    clock.advance(5 * MINUTE);
    await startedAt('acme', ['leads'], '2026-03-14T06:00:00.000Z');
    await startedAt('zeta', ['tickets'], '2026-03-13T02:30:00.000Z');
    await newToken();
    await writeFile(
      join(dir, 'scheduler.yaml'),
      stringify({ scheduler: { tick_seconds: 1, health_interval: 'every 1m' } }),
    );
    scheduler = spawnAgnes(['scheduler'], {
      cwd: dir,
      // No JWT secret and a DATA_DIR of its own: the scheduler needs neither the secret nor the state store.
      env: hostEnv({
        AGNES_API_URL: server.url,
        AGNES_TOKEN_FILE: join(dir, 'token'),
        AGNES_CONFIG: join(dir, 'scheduler.yaml'),
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'info',
      }),
    });
  });

  afterAll(async () => {
    if (scheduler) await killIfRunning(scheduler);
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('triggers exactly the due tables, one call per source, and not again once they started', async () => {
    await until(async () => syncTriggers().length >= 2, 'the first triggers', 20_000);
    expect((await settledJobs()).sort()).toEqual(['acme customers,leads succeeded', 'zeta notes succeeded']);
    // Their starts are the new last_run_at: nothing is due, tick after tick.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(syncTriggers()).toHaveLength(2);
    expect(logged('app health changed').map((l) => [l.status, l.level])).toEqual([['healthy', 30]]);
    // Maintenance never ran: triggered once over HTTP with the service token, and audited as its run.
    expect(logged('triggered').filter((line) => line.source === undefined)).toHaveLength(1);
    const runs = await server.ctx.repos.audit.list({ action: 'maintenance.run' });
    expect(runs.items.map((entry) => [entry.user_id, entry.result])).toEqual([[serviceUserId, 'ok']]);

    // Ten minutes later only orders (every 15m, last started 11:55) is due.
    clock.advance(10 * MINUTE);
    await until(async () => syncTriggers().length >= 3, 'the orders trigger', 10_000);
    expect((await settledJobs()).slice(2)).toEqual(['acme orders succeeded']);
  });

  it('re-reads the token file after a 401 at every tick and resumes with the new token', async () => {
    await server.ctx.repos.tokens.revoke(tokens[0]!.id, serviceUserId);
    clock.advance(15 * MINUTE);
    await until(async () => logged('could not list the scheduled jobs').length >= 1, 'the 401', 10_000);
    // Refused at every tick, but logged once a minute, and the process keeps running.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const refused = logged('could not list the scheduled jobs');
    expect(refused.map((l) => l.err)).toEqual([
      'the app refused the token (401); it is re-read from AGNES_TOKEN_FILE at every tick',
    ]);
    expect(syncTriggers()).toHaveLength(3);
    expect(scheduler.child.exitCode).toBeNull();

    const rotated = await newToken();
    await until(async () => syncTriggers().length >= 4, 'a trigger with the new token', 10_000);
    expect((await settledJobs()).slice(3)).toEqual(['acme orders succeeded']);
    const output = `${scheduler.stdout}${scheduler.stderr}`;
    expect(output).not.toContain(rotated);
    expect(output).not.toContain(tokens[0]!.token);
  });

  it('backs off while the app restarts, then recovers without a duplicate job', async () => {
    await server.close();
    await until(async () => logged('the app is unreachable').length >= 3, 'three failed attempts', 15_000);
    expect(logged('the app is unreachable').map((l) => l.retry_in_ms)).toEqual([1_000, 2_000, 4_000]);
    server = await withServer({ ...serverOptions(), port });
    await until(async () => logged('the app is reachable again').length >= 1, 'recovery', 15_000);
    // Nothing became due while the app was down.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(syncTriggers()).toHaveLength(4);
    clock.advance(15 * MINUTE);
    await until(async () => syncTriggers().length >= 5, 'a trigger after the restart', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect((await settledJobs()).slice(4)).toEqual(['acme orders succeeded']);
  });

  it('exits 0 on SIGTERM within 10 s, having logged only JSON lines and touched no state store', async () => {
    scheduler.child.kill('SIGTERM');
    const exit = await within(scheduler.exited, 10_000, 'the scheduler exit');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(logs().at(-1)?.msg).toBe('scheduler stopped');
    expect(
      logs().every((line) => line.service === 'scheduler' || line.msg.startsWith('no instance.yaml')),
    ).toBe(true);
    expect(scheduler.stderr).toBe('');
    expect(existsSync(join(dir, 'data')) ? await readdir(join(dir, 'data')) : []).toEqual([]);
  });

  it('refuses to start without a token, naming the variables', async () => {
    const result = await runAgnes(['scheduler'], {
      cwd: dir,
      env: hostEnv({ AGNES_CONFIG: join(dir, 'scheduler.yaml'), DATA_DIR: join(dir, 'data') }),
      killAfterMs: 15_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "agnes: set AGNES_TOKEN or AGNES_TOKEN_FILE to a service account's personal access token\n",
    );
  });
});

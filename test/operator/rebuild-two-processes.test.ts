import { mkdir, readdir, readFile, readlink, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuck, queryRows } from '../../src/core/duckdb/engine.js';
import { AgnesError } from '../../src/core/errors.js';
import { SyncOrchestrator } from '../../src/core/orchestrator/orchestrator.js';
import type { RebuildReport } from '../../src/core/orchestrator/report.js';
import { orchestratorStateStore } from '../../src/core/orchestrator/state-store.js';
import { openStateDb, type StateDb } from '../../src/core/state/db.js';
import { makeExtract, tempDir } from '../support/extracts.js';
import { type ChildRun, hostEnv, killIfRunning, spawnAgnes, within } from '../support/processes.js';

/**
 * R8 (10-quality-bars.md §2): two rebuilds in different processes. The cross-process lock
 * (`analytics/.rebuild.lock`, 02 §2.5) is respected — never both inside — and both succeed: a
 * waiter takes over once the holder finishes or dies, a short wait fails with `rebuild_locked`.
 */

const JWT_SECRET = 'two-processes-test-secret-0123456789abcdef';

let root: string;
let dataDir: string;
let configDir: string;
let cleanup: () => Promise<void>;
const children = new Set<ChildRun>();
const stateDbs = new Set<StateDb>();

function agnes(args: string[], extraEnv: Record<string, string> = {}): ChildRun {
  const env = hostEnv({
    DATA_DIR: dataDir,
    CONFIG_DIR: configDir,
    JWT_SECRET_KEY: JWT_SECRET,
    LOG_LEVEL: 'warn',
    ...extraEnv,
  });
  const run = spawnAgnes(args, { cwd: root, env });
  children.add(run);
  return run;
}

/** Waits for `agnes rebuild --json` to exit 0 and returns its report. */
async function succeeded(run: ChildRun): Promise<RebuildReport> {
  const exit = await within(run.exited, 25_000, 'agnes rebuild to finish');
  expect(exit, run.stderr).toEqual({ code: 0, signal: null });
  return JSON.parse(run.stdout) as RebuildReport;
}

/**
 * Polls until the process has the state store open: `agnes rebuild` opens (and migrates) it right
 * before it asks for the rebuild lock, so from then on it is waiting for the lock.
 */
async function waitUntilStateStoreOpen(run: ChildRun): Promise<void> {
  const store = await realpath(join(dataDir, 'state', 'system.sqlite'));
  const deadline = Date.now() + 20_000;
  for (;;) {
    expect(run.child.exitCode, run.stderr).toBeNull();
    const fds = await readdir(`/proc/${run.child.pid}/fd`).catch(() => [] as string[]);
    const targets = await Promise.all(
      fds.map((fd) => readlink(`/proc/${run.child.pid}/fd/${fd}`).catch(() => '')),
    );
    if (targets.includes(store)) return;
    if (Date.now() > deadline) throw new Error('the second agnes rebuild never opened the state store');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const analyticsDir = () => join(dataDir, 'analytics');

async function publishedGeneration(): Promise<number> {
  const reader = await openDuck(join(analyticsDir(), 'server.duckdb'), { readOnly: true });
  try {
    const [row] = await queryRows<{ generation: bigint }>(reader.conn, 'SELECT generation FROM _agnes_build');
    return Number(row?.generation);
  } finally {
    reader.close();
  }
}

async function lockPid(): Promise<number | null> {
  const text = await readFile(join(analyticsDir(), '.rebuild.lock'), 'utf8').catch(() => null);
  return text ? (JSON.parse(text) as { pid: number }).pid : null;
}

/** An orchestrator in this process on the same DATA_DIR, as the app would hold it. */
function inProcessOrchestrator(options: {
  lockWaitMs?: number;
  pause?: (point: string) => Promise<void>;
}): SyncOrchestrator {
  const db = openStateDb(dataDir);
  stateDbs.add(db);
  return new SyncOrchestrator({ dataDir, state: orchestratorStateStore(db), env: {}, ...options });
}

/** The runs did not overlap: each started (after taking the lock) once the previous had finished. */
function expectSerial(reports: RebuildReport[]): void {
  const ordered = [...reports].sort((a, b) => a.generation - b.generation);
  for (let i = 1; i < ordered.length; i++) {
    expect(ordered[i]!.generation).toBe(ordered[i - 1]!.generation + 1);
    expect(Date.parse(ordered[i]!.started_at)).toBeGreaterThanOrEqual(
      Date.parse(ordered[i - 1]!.finished_at),
    );
  }
}

beforeEach(async () => {
  const dir = await tempDir('agnes-rebuild-two-');
  root = dir.path;
  cleanup = dir.cleanup;
  dataDir = join(root, 'data');
  configDir = join(root, 'config');
  await mkdir(configDir, { recursive: true });
  const extracts = join(dataDir, 'extracts');
  await makeExtract(extracts, 'alpha', [{ name: 'orders', rows: 50 }]);
  await makeExtract(extracts, 'beta', [{ name: 'users', rows: 20, shards: 2 }]);
  await makeExtract(extracts, 'gamma', [{ name: 'tickets', rows: 7 }]);
  // The first generation, published by a normal run.
  const first = await succeeded(agnes(['rebuild', '--json']));
  expect(first.generation).toBe(1);
});

afterEach(async () => {
  for (const run of children) await killIfRunning(run);
  children.clear();
  for (const db of stateDbs) await db.destroy();
  stateDbs.clear();
  await cleanup();
});

describe('two processes rebuilding the same DATA_DIR (R8)', () => {
  it('a holder killed before its rename: a short wait fails with rebuild_locked, a second agnes rebuild waits and takes over', async () => {
    const holder = agnes(['rebuild', '--json'], { AGNES_TEST_REBUILD_PAUSE_AT: 'closed' });
    await holder.waitForOutput('stderr', /^PAUSED closed$/m, 20_000);
    expect(await lockPid()).toBe(holder.child.pid);

    const waiter = agnes(['rebuild', '--json']);
    await waitUntilStateStoreOpen(waiter);

    // The app's orchestrator with a short wait gives up with the documented code (HTTP 409).
    const app = inProcessOrchestrator({ lockWaitMs: 300 });
    const refused = await app.rebuild().then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(AgnesError);
    expect(refused).toMatchObject({ code: 'rebuild_locked', status: 409 });

    // Nobody got past the holder: same lock owner, nothing new published, the waiter still waits.
    expect(await lockPid()).toBe(holder.child.pid);
    expect(await publishedGeneration()).toBe(1);
    expect(waiter.child.exitCode).toBeNull();

    const killedAt = Date.now();
    holder.child.kill('SIGKILL');
    expect(await within(holder.exited, 10_000, 'the holder to die')).toEqual({
      code: null,
      signal: 'SIGKILL',
    });

    // The dead holder's lock is stale; the waiter takes it over, removes the temp file and publishes.
    const report = await succeeded(waiter);
    expect(report.generation).toBe(2);
    expect(Date.parse(report.started_at)).toBeGreaterThanOrEqual(killedAt);
    expect(Object.values(report.sources).map((s) => s.status)).toEqual(['ok', 'ok', 'ok']);
    expect(await publishedGeneration()).toBe(2);
    expect(await readdir(analyticsDir())).toEqual(['server.duckdb']);
  });

  it('the app rebuilding in-process while agnes rebuild runs: the process waits for the app, both succeed', async () => {
    let reachedClosed!: () => void;
    const atClosed = new Promise<void>((resolve) => {
      reachedClosed = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const app = inProcessOrchestrator({
      pause: async (point) => {
        if (point !== 'closed') return;
        reachedClosed();
        await released;
      },
    });
    const appRun = app.rebuild();
    await within(atClosed, 20_000, 'the in-process rebuild to reach its rename');
    expect(await lockPid()).toBe(process.pid);

    const cli = agnes(['rebuild', '--json']);
    await waitUntilStateStoreOpen(cli);
    expect(await publishedGeneration()).toBe(1);
    expect(cli.child.exitCode).toBeNull();

    release();
    const appReport = await appRun;
    const cliReport = await succeeded(cli);
    expect(appReport.generation).toBe(2);
    expect(cliReport.generation).toBe(3);
    expectSerial([appReport, cliReport]);
    expect(await publishedGeneration()).toBe(3);
    expect(await readdir(analyticsDir())).toEqual(['server.duckdb']);
  });

  it('two concurrent agnes rebuild processes both exit 0 with distinct consecutive generations', async () => {
    let generation = 1;
    for (let round = 0; round < 2; round++) {
      const [a, b] = [agnes(['rebuild', '--json']), agnes(['rebuild', '--json'])];
      const reports = await Promise.all([succeeded(a), succeeded(b)]);
      expect(reports.map((r) => r.generation).sort((x, y) => x - y)).toEqual([
        generation + 1,
        generation + 2,
      ]);
      expectSerial(reports);
      for (const report of reports) {
        expect(Object.values(report.sources).map((s) => s.status)).toEqual(['ok', 'ok', 'ok']);
      }
      generation += 2;
      expect(await publishedGeneration()).toBe(generation);
      expect(await readdir(analyticsDir())).toEqual(['server.duckdb']);
    }
  });
});

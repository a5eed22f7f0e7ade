import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type DuckSession, openDuck, queryRows } from '../../src/core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../src/core/duckdb/sql.js';
import type { RebuildReport } from '../../src/core/orchestrator/report.js';
import { type FixtureTable, makeExtract, tempDir } from '../support/extracts.js';
import {
  type ChildRun,
  hostEnv,
  killIfRunning,
  type ProcessExit,
  spawnAgnes,
  within,
} from '../support/processes.js';

/**
 * R1 (10-quality-bars.md §2): `agnes rebuild` SIGKILLed at 20 seeded points — every pause point of
 * the fault-test seam (including `closed`: temp file closed and fsynced, before the rename) and
 * seeded random delays. After each kill the published file opens at the old or the new generation,
 * a reader opened before the kill keeps working, and the next rebuild succeeds and leaves nothing.
 */

const JWT_SECRET = 'rebuild-kill-test-secret-0123456789abcdef';

const SOURCES: Record<string, FixtureTable[]> = {
  alpha: [
    { name: 'alpha_orders', rows: 120 },
    { name: 'alpha_events', rows: 40, shards: 3 },
  ],
  beta: [{ name: 'beta_users', rows: 75 }],
  gamma: [
    { name: 'gamma_tickets', rows: 33 },
    { name: 'gamma_notes', rows: 5 },
  ],
};

/** Row count of every view a complete generation publishes (every shard holds the table's rows). */
const EXPECTED_COUNTS: Record<string, number> = Object.fromEntries(
  Object.values(SOURCES)
    .flat()
    .map((t) => [t.name, (t.rows ?? 10) * (t.shards ?? 1)])
    .sort(([a], [b]) => String(a).localeCompare(String(b))),
);

/** Pause points of one full run over the three sources, in the order the run reaches them. */
const PAUSE_POINTS = ['opened', 'source:alpha', 'source:beta', 'source:gamma', 'closed', 'renamed'];
const BEFORE_RENAME = new Set(PAUSE_POINTS.slice(0, -1));

/** Tiny seeded PRNG (mulberry32), so the random kill delays are the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SEED = 0x5eed_0a91;
const random = mulberry32(SEED);
/** 14 delays as fractions of a measured full run; with the 6 pause points, 20 kill points. */
const DELAY_FRACTIONS = Array.from({ length: 14 }, () => random());

// ---------------------------------------------------------------------------------------------
// Child processes

let root: string;
let dataDir: string;
let configDir: string;
let cleanup: () => Promise<void>;
const children = new Set<ChildRun>();
const readers = new Set<DuckSession>();

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

/** A normal `agnes rebuild --json` run to completion: exit 0 and its report. */
async function rebuildToCompletion(): Promise<{ report: RebuildReport; ms: number }> {
  const started = performance.now();
  const run = agnes(['rebuild', '--json']);
  const exit = await within(run.exited, 25_000, 'agnes rebuild');
  expect(exit, run.stderr).toEqual({ code: 0, signal: null });
  return { report: JSON.parse(run.stdout) as RebuildReport, ms: performance.now() - started };
}

// ---------------------------------------------------------------------------------------------
// Readers of the published file, as an operator or the query engine would open it

const analyticsDir = () => join(dataDir, 'analytics');

async function openReader(): Promise<DuckSession> {
  const reader = await openDuck(join(analyticsDir(), 'server.duckdb'), { readOnly: true });
  readers.add(reader);
  for (const source of Object.keys(SOURCES)) {
    const file = join(dataDir, 'extracts', source, 'extract.duckdb');
    await reader.conn.run(`ATTACH ${quoteLiteral(file)} AS ${quoteIdent(source)} (READ_ONLY)`);
  }
  return reader;
}

function closeReader(reader: DuckSession): void {
  reader.close();
  readers.delete(reader);
}

interface Snapshot {
  generation: number;
  counts: Record<string, number>;
}

/** The generation and the row count of every view, each view queried through the reader. */
async function snapshot(reader: DuckSession): Promise<Snapshot> {
  const [build, ...more] = await queryRows<{ generation: bigint }>(
    reader.conn,
    'SELECT generation FROM _agnes_build',
  );
  expect(more).toEqual([]);
  const views = await queryRows<{ view_name: string }>(
    reader.conn,
    `SELECT view_name FROM duckdb_views()
     WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal ORDER BY view_name`,
  );
  const counts: Record<string, number> = {};
  for (const { view_name } of views) {
    const [row] = await queryRows<{ n: bigint }>(
      reader.conn,
      `SELECT count(*) AS n FROM main.${quoteIdent(view_name)}`,
    );
    counts[view_name] = Number(row?.n);
  }
  return { generation: Number(build?.generation), counts };
}

async function analyticsEntries(): Promise<string[]> {
  return (await readdir(analyticsDir())).sort();
}

async function lockPid(): Promise<number | null> {
  const text = await readFile(join(analyticsDir(), '.rebuild.lock'), 'utf8').catch(() => null);
  return text ? (JSON.parse(text) as { pid: number }).pid : null;
}

// ---------------------------------------------------------------------------------------------
// One kill

type KillPoint = { pause: string } | { delayMs: number };

interface KillOutcome {
  exit: ProcessExit;
  generation: number;
}

/**
 * Starts `agnes rebuild`, SIGKILLs it at the point, then checks every R1 property: the file opens
 * at the old or the new generation with every view readable, the reader opened before the kill
 * still reads the old generation, and the next normal rebuild succeeds and leaves no leftovers.
 */
async function killAndRecover(point: KillPoint): Promise<KillOutcome> {
  const before = await openReader();
  const old = await snapshot(before);
  expect(old.counts).toEqual(EXPECTED_COUNTS);

  let run: ChildRun;
  if ('pause' in point) {
    run = agnes(['rebuild', '--json'], { AGNES_TEST_REBUILD_PAUSE_AT: point.pause });
    await run.waitForOutput('stderr', new RegExp(`^PAUSED ${point.pause}$`, 'm'), 20_000);
    // Held at the point: the run owns the lock; before the rename its temp file is there too.
    expect(await lockPid()).toBe(run.child.pid);
    const temps = (await analyticsEntries()).filter(
      (name) => name.startsWith('server.duckdb.tmp-') && !name.endsWith('.wal'),
    );
    const ownTemp = new RegExp(`^server\\.duckdb\\.tmp-${run.child.pid}-[0-9a-f]+$`);
    expect(temps).toEqual(BEFORE_RENAME.has(point.pause) ? [expect.stringMatching(ownTemp)] : []);
    run.child.kill('SIGKILL');
  } else {
    run = agnes(['rebuild', '--json']);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), point.delayMs);
    await within(run.exited, 25_000, 'the killed rebuild to end').finally(() => clearTimeout(timer));
  }
  const exit = await within(run.exited, 10_000, 'the killed rebuild to end');
  const label = `${JSON.stringify(point)} ${JSON.stringify(exit)} ${run.stderr}`;
  if ('pause' in point) expect(exit, label).toEqual({ code: null, signal: 'SIGKILL' });
  // A random delay may outlast the run: then the run finished normally before the kill.
  else
    expect(
      [
        { code: null, signal: 'SIGKILL' },
        { code: 0, signal: null },
      ],
      label,
    ).toContainEqual(exit);

  // A new reader opens the published file at the old or the new generation; every view reads.
  const after = await openReader();
  const now = await snapshot(after);
  closeReader(after);
  if ('pause' in point) {
    expect(now.generation, label).toBe(BEFORE_RENAME.has(point.pause) ? old.generation : old.generation + 1);
  } else if (exit.code === 0) {
    expect(now.generation, label).toBe(old.generation + 1);
  } else {
    expect([old.generation, old.generation + 1], label).toContain(now.generation);
  }
  expect(now.counts, label).toEqual(EXPECTED_COUNTS);

  // The reader that had the file open before the kill still reads its generation.
  expect(await snapshot(before), label).toEqual(old);
  closeReader(before);

  // The next normal rebuild takes over the dead process's lock, publishes and cleans up.
  const { report } = await rebuildToCompletion();
  expect(report.generation, label).toBe(now.generation + 1);
  expect(Object.values(report.sources).map((s) => s.status)).toEqual(['ok', 'ok', 'ok']);
  expect(report.views).toBe(Object.keys(EXPECTED_COUNTS).length);
  expect(await analyticsEntries(), label).toEqual(['server.duckdb']);
  return { exit, generation: now.generation };
}

// ---------------------------------------------------------------------------------------------

beforeEach(async () => {
  const dir = await tempDir('agnes-rebuild-kill-');
  root = dir.path;
  cleanup = dir.cleanup;
  dataDir = join(root, 'data');
  configDir = join(root, 'config');
  await mkdir(configDir, { recursive: true });
  for (const [source, tables] of Object.entries(SOURCES)) {
    await makeExtract(join(dataDir, 'extracts'), source, tables);
  }
});

afterEach(async () => {
  for (const run of children) await killIfRunning(run);
  children.clear();
  for (const reader of readers) reader.close();
  readers.clear();
  await cleanup();
});

/** Publishes the first generation; its wall time bounds the random kill delays. */
async function firstGeneration(): Promise<number> {
  const { report, ms } = await rebuildToCompletion();
  expect(report.generation).toBe(1);
  expect(await analyticsEntries()).toEqual(['server.duckdb']);
  return ms;
}

describe('agnes rebuild killed with SIGKILL (R1)', () => {
  it.each(
    [PAUSE_POINTS.slice(0, 3), PAUSE_POINTS.slice(3)].map((points) => ({ points, label: points.join(', ') })),
  )('at the pause points $label keeps the published generation intact', async ({ points }) => {
    await firstGeneration();
    let generation = 1;
    for (const pause of points) {
      const outcome = await killAndRecover({ pause });
      expect(outcome.generation).toBe(pause === 'renamed' ? generation + 1 : generation);
      generation = outcome.generation + 1;
    }
  });

  // Three kills per test keep each test well under its 30 s limit on a loaded 2-core machine.
  const chunks = [0, 3, 6, 9, 12].map((start) => DELAY_FRACTIONS.slice(start, start + 3));
  it.each(chunks.map((fractions, i) => ({ chunk: `${i + 1}/${chunks.length}`, fractions })))(
    `after seeded random delays (seed ${SEED.toString(16)}, chunk $chunk)`,
    async ({ fractions }) => {
      const fullRunMs = await firstGeneration();
      const outcomes: KillOutcome[] = [];
      for (const fraction of fractions) {
        outcomes.push(await killAndRecover({ delayMs: Math.floor(fraction * fullRunMs) }));
      }
      // Delays are below one full run's wall time, so the kills land inside runs.
      expect(outcomes.filter((o) => o.exit.signal === 'SIGKILL').length).toBeGreaterThan(0);
    },
  );
});

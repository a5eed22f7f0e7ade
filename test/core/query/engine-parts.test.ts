import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck } from '../../../src/core/duckdb/engine.js';
import { AgnesError } from '../../../src/core/errors.js';
import { EXTRACT_FILE } from '../../../src/core/extract/contract.js';
import type { ViewMapRow } from '../../../src/core/orchestrator/view-map.js';
import { mapEngineError, sanitizeEngineMessage } from '../../../src/core/query/engine-errors.js';
import type { PublishedGeneration } from '../../../src/core/query/published-views.js';
import { Sandbox, type SandboxSettings } from '../../../src/core/query/sandbox.js';
import { SandboxCache } from '../../../src/core/query/sandbox-cache.js';
import { QuerySlots } from '../../../src/core/query/slots.js';
import { isoDuration } from '../../../src/core/query/value-encoding.js';

const generation = (n: number): PublishedGeneration => ({
  identity: `test:${n}`,
  generation: n,
  views: new Map(),
  remotes: new Map(),
});

const codeOf = (error: unknown) => (error instanceof AgnesError ? error.code : String(error));

describe('query slots (05 §2 step 2)', () => {
  it('refuses a user beyond the per-user cap at once, and others beyond the global cap after the wait', async () => {
    const slots = new QuerySlots({ perUser: 1, global: 2, waitMs: 50 });
    const a = await slots.acquire('a');
    expect(await slots.acquire('a').catch(codeOf)).toBe('too_many_queries');
    const b = await slots.acquire('b');
    const started = Date.now();
    expect(await slots.acquire('c').catch(codeOf)).toBe('server_busy');
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    // A waiting request gets the slot a finishing query hands over.
    const waiting = slots.acquire('c');
    a();
    const c = await waiting;
    expect(slots.running).toBe(2);
    b();
    c();
    c();
    expect(slots.running).toBe(0);
    expect(typeof (await slots.acquire('a'))).toBe('function');
  });
});

describe('engine error hygiene (05 §7)', () => {
  const context = {
    dataDir: '/srv/agnes-data',
    secrets: ['s3cr3t-token'],
    timedOut: false,
    timeoutSeconds: 30,
    shuttingDown: false,
    onPossibleBypass: () => undefined,
  };

  it('keeps the first line, drops suggestions, paths, URLs and secrets, and caps the length', () => {
    const text = sanitizeEngineMessage(
      'Catalog Error: Table with name x does not exist! Did you mean "shop.main.salaries"?\nLINE 1: ...',
      context.dataDir,
      context.secrets,
    );
    expect(text).toBe('Catalog Error: Table with name x does not exist!');
    expect(
      sanitizeEngineMessage(
        'IO Error: cannot open /srv/agnes-data/extracts/a.parquet or s3://b/k with s3cr3t-token',
        context.dataDir,
        context.secrets,
      ),
    ).toBe('IO Error: cannot open <path> or <path> with <redacted>');
    expect(sanitizeEngineMessage('x'.repeat(1000), '', []).length).toBe(300);
  });

  it('maps engine error classes to codes', () => {
    const seen: string[] = [];
    const map = (message: string, extra = {}) =>
      mapEngineError(new Error(message), {
        ...context,
        onPossibleBypass: (m) => seen.push(m),
        ...extra,
      });
    expect(map('INTERRUPT Error: Interrupted!', { timedOut: true })).toMatchObject({
      code: 'query_timeout',
      message: 'query timed out after 30 s',
    });
    expect(map('INTERRUPT Error: Interrupted!', { shuttingDown: true }).code).toBe('unavailable');
    expect(map('Parser Error: syntax error at or near "x"').code).toBe('invalid_sql');
    const permission = map('Permission Error: Cannot access file "/srv/agnes-data/x"');
    expect(permission).toMatchObject({
      code: 'query_failed',
      message: 'access to external resources is not allowed',
    });
    expect(seen).toHaveLength(1);
    const missing = map(
      'Catalog Error: Table with name salaries does not exist! Did you mean "shop.salaries"?',
    );
    expect(missing).toMatchObject({
      code: 'query_failed',
      message: 'Catalog Error: Table with name salaries does not exist!',
    });
    expect(map('Binder Error: Referenced column "x" not found').code).toBe('query_failed');
    expect(seen).toHaveLength(2);
    expect(map('Out of Memory Error: failed to allocate').message).toBe('query exceeded the memory limit');
    expect(map('Out of Memory Error: max_temp_directory_size reached').message).toBe(
      'query exceeded the temporary storage limit',
    );
  });
});

describe('value encoding (05 §6)', () => {
  it('writes intervals as ISO 8601 durations', () => {
    expect(isoDuration({ months: 14, days: 3, micros: 7_200_000_000n })).toBe('P1Y2M3DT2H');
    expect(isoDuration({ months: 0, days: 0, micros: 1_500_000n })).toBe('PT1.5S');
    expect(isoDuration({ months: 0, days: 0, micros: 0n })).toBe('PT0S');
    expect(isoDuration({ months: 0, days: -1, micros: -60_000_000n })).toBe('P-1DT-1M');
  });
});

describe('sandbox cache (05 §4)', () => {
  let dataDir: string;
  let settings: SandboxSettings;
  const built: Sandbox[] = [];
  let cache: SandboxCache;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'agnes-sandbox-'));
    const analyticsPath = join(dataDir, 'server.duckdb');
    await writeFile(analyticsPath, 'not for sandboxes');
    settings = {
      dataDir,
      tempDir: join(dataDir, 'tmp'),
      analyticsPath,
      threads: 1,
      memoryLimitBytes: 256 * 1024 * 1024,
      maxTempBytes: 256 * 1024 * 1024,
      remoteExtensions: new Set(),
      installExtensions: false,
      attachRemote: async () => undefined,
      env: {},
      log: { warn: () => undefined, error: () => undefined },
    };
    cache = new SandboxCache({
      maxSize: 2,
      idleMs: 60_000,
      build: async (key, published, grantSet) => {
        const sandbox = await Sandbox.build(key, published, grantSet, settings);
        built.push(sandbox);
        return sandbox;
      },
    });
  });
  afterAll(async () => {
    await cache.closeAll();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('shares one sandbox per grant set, keeps an old generation open for its running query only', async () => {
    const [first, again] = await Promise.all([
      cache.acquire(generation(1), []),
      cache.acquire(generation(1), []),
    ]);
    expect(first).toBe(again);
    expect(built).toHaveLength(1);
    // A newer generation retires the old sandbox; it closes when its last query releases it.
    const next = await cache.acquire(generation(2), []);
    expect(next).not.toBe(first);
    expect(first?.retired).toBe(true);
    expect(first?.closed).toBe(false);
    first?.release();
    expect(first?.closed).toBe(false);
    again?.release();
    expect(first?.closed).toBe(true);
    // An older generation is never served again.
    expect(await cache.acquire(generation(1), [])).toBeNull();
    next?.release();
  });

  it('evicts the least recently used grant set beyond the cache size, and cleans its scratch', async () => {
    const before = built.length;
    for (const grants of [['a'], ['b'], ['c']]) (await cache.acquire(generation(2), grants))?.release();
    expect(built.length).toBe(before + 3);
    expect(cache.open).toBeLessThanOrEqual(2);
    const evicted = built.filter((s) => s.closed);
    await Promise.all(evicted.map((s) => s.removed));
    const scratch = await readdir(join(dataDir, 'tmp', 'query'));
    expect(scratch.length).toBe(cache.open);
  });

  it('refuses to read files outside the allow-list inside a sandbox (self-check and layer 3)', async () => {
    const sandbox = await cache.acquire(generation(2), ['z']);
    const conn = await sandbox!.connect();
    try {
      const error = await conn
        .run(`SELECT * FROM read_text('${settings.analyticsPath}')`)
        .catch((e: Error) => e);
      expect(String(error)).toMatch(/Permission Error/);
      const locked = await conn.run('SET enable_external_access = true').catch((e: Error) => e);
      expect(String(locked)).toMatch(/lock/i);
    } finally {
      conn.closeSync();
      sandbox!.release();
    }
  });

  it('leaves out a source whose extract no longer attaches, keeping the sources around it', async () => {
    // `b` sorts between the two good sources, so the one-run attach fails after attaching `a`.
    for (const source of ['a', 'c']) {
      await mkdir(join(dataDir, 'extracts', source), { recursive: true });
      const duck = await openDuck(join(dataDir, 'extracts', source, EXTRACT_FILE));
      await duck.conn.run(`CREATE VIEW ${source}_t AS SELECT 42 AS x`);
      duck.close();
    }
    await mkdir(join(dataDir, 'extracts', 'b'), { recursive: true });
    await writeFile(join(dataDir, 'extracts', 'b', EXTRACT_FILE), 'not a database');
    const view = (source: string) =>
      ({
        view_name: `${source}_t`,
        table_id: `${source}_t`,
        source,
        query_mode: 'local',
        files: [],
        data_dir: null,
      }) as unknown as ViewMapRow;
    const published: PublishedGeneration = {
      ...generation(3),
      views: new Map(['a', 'b', 'c'].map((s) => [`${s}_t`, view(s)])),
    };
    const warned: unknown[] = [];
    const sandbox = await Sandbox.build('partial', published, ['a_t', 'b_t', 'c_t'], {
      ...settings,
      log: { warn: (detail) => warned.push(detail), error: () => undefined },
    });
    const conn = await sandbox.connect();
    try {
      expect(warned).toEqual([expect.objectContaining({ source: 'b' })]);
      const rows = await conn.runAndReadAll('SELECT (SELECT x FROM a_t) + (SELECT x FROM c_t) AS total');
      expect(rows.getRowObjects()).toEqual([{ total: 84 }]);
      expect(String(await conn.run('SELECT * FROM b_t').catch((e: Error) => e))).toMatch(/b_t/);
    } finally {
      conn.closeSync();
      sandbox.close();
      await sandbox.removed;
    }
  });

  it('hands out query connections with `query.threads` workers and the optimizer on', async () => {
    // The build itself runs single-threaded with the optimizer off on its own connection.
    const sandbox = await cache.acquire(generation(2), ['y']);
    const conn = await sandbox!.connect();
    try {
      const threads = await conn.runAndReadAll(`SELECT current_setting('threads') AS threads`);
      expect(threads.getRowObjects()).toEqual([{ threads: BigInt(settings.threads + 1) }]);
      const plan = await conn.runAndReadAll('EXPLAIN SELECT * FROM range(10) WHERE 1 = 0');
      expect(JSON.stringify(plan.getRowObjectsJson())).toMatch(/EMPTY_RESULT/);
    } finally {
      conn.closeSync();
      sandbox!.release();
    }
  });
});

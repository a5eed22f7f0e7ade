import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { InstanceConfig } from '../../../src/core/config/index.js';
import { AgnesError } from '../../../src/core/errors.js';
import { ScriptRunner, type ScriptRunRequest } from '../../../src/core/scripts/runner.js';
import { SCRIPT_ENV } from '../../../src/core/scripts/sandbox.js';

/**
 * The script sandbox with the real bubblewrap (08 §6): what a script can and cannot reach, and the
 * limits that stop it. Every script here would succeed outside the sandbox, so each refusal is the
 * sandbox's doing.
 */

const log = pino({ level: 'silent' });
let dataDir: string;

function settings(overrides: Partial<InstanceConfig['scripts']> = {}): InstanceConfig['scripts'] {
  return {
    enabled: true,
    allow_unisolated: false,
    timeout_seconds: 300,
    max_output_bytes: 64 * 1024,
    max_source_bytes: 256 * 1024,
    memory_limit_mb: 512,
    max_concurrent: 2,
    python_path: '/usr/bin/python3',
    bwrap_path: inject('bwrapPath'),
    ...overrides,
  };
}

function runner(overrides: Partial<InstanceConfig['scripts']> = {}): ScriptRunner {
  return new ScriptRunner({ settings: settings(overrides), dataDir, tempDir: join(dataDir, 'tmp'), log });
}

let sandbox: ScriptRunner;

function node(source: string, extra: Partial<ScriptRunRequest> = {}) {
  return sandbox.run({ source, runtime: 'node', timeoutSeconds: 20, ...extra });
}

/** A script that prints one JSON object of what it found. */
async function report(body: string): Promise<Record<string, unknown>> {
  const outcome = await node(`${body}\nprocess.stdout.write(JSON.stringify(result));`);
  expect(outcome.stderr).toBe('');
  expect(outcome.exitCode).toBe(0);
  return JSON.parse(outcome.stdout) as Record<string, unknown>;
}

async function leftoverScratch(): Promise<string[]> {
  return readdir(join(dataDir, 'tmp', 'scripts')).catch(() => []);
}

/** Host processes whose command line holds `marker`. */
async function processesWith(marker: string): Promise<number> {
  let count = 0;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(marker)) count += 1;
  }
  return count;
}

let host: Server;
let hostHits = 0;
let hostPort = 0;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'agnes-scripts-'));
  await mkdir(join(dataDir, 'extracts', 'shop'), { recursive: true });
  await writeFile(join(dataDir, 'extracts', 'shop', 'data.csv'), 'id\n1\n');
  await writeFile(join(dataDir, 'state.db'), 'secret state');
  await writeFile(join(dataDir, 'instance.yaml'), 'scripts: {}');
  await mkdir(join(dataDir, 'uploads'));
  sandbox = runner();
  host = createServer((_request, response) => {
    hostHits += 1;
    response.end('reached');
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  hostPort = (host.address() as { port: number }).port;
});

afterAll(async () => {
  await sandbox.stop();
  await new Promise((resolve) => host.close(resolve));
  await rm(dataDir, { recursive: true, force: true });
});

describe('the bubblewrap sandbox (08 §6)', () => {
  it('runs a node script with exactly the stripped environment, in /scratch, and removes the scratch directory', async () => {
    const outcome = await node(
      "import { readFileSync } from 'node:fs';\n" +
        "console.log(JSON.stringify({ env: process.env, cwd: process.cwd(), source: readFileSync('script.mjs', 'utf8').length }));",
    );
    expect(outcome).toMatchObject({ exitCode: 0, timedOut: false, truncated: false, isolation: 'bwrap' });
    const seen = JSON.parse(outcome.stdout);
    expect(seen.env).toEqual(SCRIPT_ENV);
    expect(seen.cwd).toBe('/scratch');
    expect(seen.source).toBeGreaterThan(0);
    expect(await leftoverScratch()).toEqual([]);
  });

  it('has no network: a server listening on the host loopback and DNS are both out of reach', async () => {
    const result = await report(`
      import { lookup } from 'node:dns/promises';
      const result = {};
      try { await fetch('http://127.0.0.1:${hostPort}/'); result.fetch = 'reached'; } catch (e) { result.fetch = String(e.cause?.code ?? e.message); }
      try { await lookup('example.com'); result.dns = 'resolved'; } catch (e) { result.dns = String(e.code); }
    `);
    expect(result.fetch).toBe('ECONNREFUSED');
    expect(result.dns).not.toBe('resolved');
    expect(hostHits).toBe(0);
    // The same request from outside the sandbox does reach it: the refusal above is the sandbox's.
    expect(await (await fetch(`http://127.0.0.1:${hostPort}/`)).text()).toBe('reached');
  });

  it('shows the extracts read-only at /data/extracts, and nothing else of the instance', async () => {
    const result = await report(`
      import { existsSync, readFileSync, writeFileSync } from 'node:fs';
      const result = { data: readFileSync('/data/extracts/shop/data.csv', 'utf8'), hidden: {} };
      try { writeFileSync('/data/extracts/shop/data.csv', 'x'); result.write = 'written'; } catch (e) { result.write = e.code; }
      for (const path of ${JSON.stringify([
        join(dataDir, 'state.db'),
        join(dataDir, 'instance.yaml'),
        join(dataDir, 'uploads'),
        dataDir,
      ])}) result.hidden[path] = existsSync(path);
    `);
    expect(result.data).toBe('id\n1\n');
    expect(result.write).toBe('EROFS');
    expect(Object.values(result.hidden as Record<string, boolean>)).toEqual([false, false, false, false]);
    expect(await readFile(join(dataDir, 'extracts', 'shop', 'data.csv'), 'utf8')).toBe('id\n1\n');
  });

  it('lets a script write only its scratch directory (and a private /tmp)', async () => {
    const result = await report(`
      import { writeFileSync } from 'node:fs';
      const result = {};
      for (const path of ['/scratch/out.txt', '/tmp/t.txt', '/usr/x', '/etc/x', '/x', '/opt/agnes/node_modules/x', '/data/x']) {
        try { writeFileSync(path, 'x'); result[path] = 'ok'; } catch (e) { result[path] = e.code; }
      }
    `);
    expect(result).toEqual({
      '/scratch/out.txt': 'ok',
      '/tmp/t.txt': 'ok',
      '/usr/x': 'EROFS',
      '/etc/x': 'EROFS',
      '/x': 'EROFS',
      '/opt/agnes/node_modules/x': 'EROFS',
      '/data/x': 'EROFS',
    });
  });

  it('lets node scripts import the package’s modules', async () => {
    const outcome = await node(
      "import { stringify } from 'yaml';\nprocess.stdout.write(stringify({ a: 1 }));",
    );
    expect(outcome.stderr).toBe('');
    expect(outcome.stdout).toBe('a: 1\n');
  });

  it('kills a fork bomb at the timeout with nothing left running', async () => {
    const marker = `98${process.pid}7`;
    const started = Date.now();
    // Bounded to 200 sleepers, so it cannot hurt the machine even without the sandbox.
    const outcome = await node(
      "import { spawn } from 'node:child_process';\n" +
        `spawn('/bin/sh', ['-c', 'i=0; while [ $i -lt 200 ]; do sleep ${marker} & i=$((i+1)); done; echo spawned; wait'], { stdio: 'inherit' });\n` +
        'setInterval(() => {}, 1000);',
      { timeoutSeconds: 2 },
    );
    expect(outcome.stdout).toBe('spawned\n');
    expect(outcome.timedOut).toBe(true);
    expect(outcome.exitCode).toBeNull();
    expect(Date.now() - started).toBeLessThan(6_000);
    expect(await processesWith(marker)).toBe(0);
    expect(await leftoverScratch()).toEqual([]);
  });

  it('kills an infinite loop at the timeout without blocking the event loop meanwhile', async () => {
    let ticks = 0;
    const ticker = setInterval(() => {
      ticks += 1;
    }, 100);
    const outcome = await node('while (true) {}', { timeoutSeconds: 2 });
    clearInterval(ticker);
    expect(outcome.timedOut).toBe(true);
    expect(outcome.durationMs).toBeGreaterThanOrEqual(2_000);
    expect(ticks).toBeGreaterThanOrEqual(10);
  });

  it('caps output by bytes, ends it with [truncated], and never blocks a chatty script', async () => {
    const small = runner({ max_output_bytes: 1000 });
    const outcome = await small.run({
      source:
        "const chunk = 'é'.repeat(50_000);\nfor (let i = 0; i < 100; i++) { process.stdout.write(chunk); process.stderr.write(chunk); }",
      runtime: 'node',
      timeoutSeconds: 20,
    });
    expect(outcome.exitCode).toBe(0);
    expect(outcome.timedOut).toBe(false);
    expect(outcome.truncated).toBe(true);
    for (const text of [outcome.stdout, outcome.stderr]) {
      expect(text.endsWith('\n[truncated]')).toBe(true);
      expect(Buffer.byteLength(text.slice(0, -'\n[truncated]'.length))).toBeLessThanOrEqual(1000);
      expect(text.startsWith('éé')).toBe(true);
    }
  });

  it('caps memory: the address space through prlimit, and node’s heap', async () => {
    const small = runner({ memory_limit_mb: 64 });
    const python = await small.run({
      source: 'block = bytearray(256 * 1024 * 1024)\nprint("allocated")',
      runtime: 'python',
      timeoutSeconds: 20,
    });
    expect(python.exitCode).not.toBe(0);
    expect(python.stderr).toContain('MemoryError');
    const node = await small.run({
      source: 'const keep = []; while (true) keep.push({ n: keep.length, s: String(keep.length) });',
      runtime: 'node',
      timeoutSeconds: 20,
    });
    expect(node.timedOut).toBe(false);
    // V8 reports the full heap, or the process dies of the failed allocation (a signal, exit code null).
    expect(node.exitCode).not.toBe(0);
  });

  it('runs python scripts through scripts.python_path, and refuses a missing runtime with 503', async () => {
    const outcome = await sandbox.run({
      source: 'import json, os\nprint(json.dumps({"notify": False, "home": os.environ["HOME"]}))',
      runtime: 'python',
      timeoutSeconds: 20,
    });
    expect(outcome.stderr).toBe('');
    expect(JSON.parse(outcome.stdout)).toEqual({ notify: false, home: '/scratch' });
    const missing = runner({ python_path: '/nonexistent/python3' });
    const error = await missing
      .run({ source: 'print(1)', runtime: 'python', timeoutSeconds: 5 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(AgnesError);
    expect(error).toMatchObject({ code: 'runtime_unavailable', status: 503 });
  });

  it('refuses to run without bwrap, unless unisolated runs are allowed', async () => {
    const missing = runner({ bwrap_path: '/nonexistent/bwrap' });
    expect(await missing.probe()).toEqual({
      available: false,
      reason: 'bwrap not found at /nonexistent/bwrap',
    });
    const error = await missing
      .run({ source: 'console.log(1)', runtime: 'node', timeoutSeconds: 5 })
      .catch((e) => e);
    expect(error).toMatchObject({ code: 'isolation_unavailable', status: 503 });

    const allowed = runner({ bwrap_path: '/nonexistent/bwrap', allow_unisolated: true });
    const outcome = await allowed.run({
      source:
        'console.log(JSON.stringify({ home: process.env.HOME, keys: Object.keys(process.env).sort() }))',
      runtime: 'node',
      timeoutSeconds: 5,
    });
    expect(outcome.isolation).toBe('none');
    const seen = JSON.parse(outcome.stdout);
    expect(seen.keys).toEqual(Object.keys(SCRIPT_ENV).sort());
    expect(seen.home.startsWith(join(dataDir, 'tmp', 'scripts'))).toBe(true);
    expect(await leftoverScratch()).toEqual([]);
  });

  it('runs at most scripts.max_concurrent scripts at once (429 too_many_runs)', async () => {
    const one = runner({ max_concurrent: 1 });
    const first = one.run({ source: 'setTimeout(() => {}, 1500)', runtime: 'node', timeoutSeconds: 10 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const error = await one.run({ source: '', runtime: 'node', timeoutSeconds: 5 }).catch((e) => e);
    expect(error).toMatchObject({ code: 'too_many_runs', status: 429 });
    expect((await first).exitCode).toBe(0);
    expect((await one.run({ source: '', runtime: 'node', timeoutSeconds: 5 })).exitCode).toBe(0);
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateDb } from '../../src/core/state/db.js';
import { createRepositories } from '../../src/core/state/repositories/index.js';
import { generatePat } from '../../src/server/auth/pat.js';
import { tempDir } from '../support/extracts.js';
import { freePort } from '../support/ports.js';

/**
 * R16 (10 §2) for the query engine: SIGTERM to `agnes serve` while a query runs interrupts it,
 * the process exits 0 well within 25 s and no sandbox scratch directory is left behind.
 */

const AGNES = fileURLToPath(new URL('../../dist/bin/agnes.js', import.meta.url));
const JWT_SECRET = 'serve-query-test-secret-0123456789abcdef-01234';
const RUNAWAY = 'SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000000) b';

/** Every file below `dir` (directories themselves are not leftovers). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

describe('agnes serve: SIGTERM during a query (R16)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let child: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;
  let port: number;
  let dataDir: string;

  beforeAll(async () => {
    dir = await tempDir('agnes-serve-query-');
    dataDir = join(dir.path, 'data');
    const configDir = join(dir.path, 'config');
    await mkdir(configDir, { recursive: true });
    port = await freePort();
    const env: NodeJS.ProcessEnv = {
      DATA_DIR: dataDir,
      CONFIG_DIR: configDir,
      JWT_SECRET_KEY: JWT_SECRET,
      LOG_LEVEL: 'warn',
    };
    for (const key of ['PATH', 'HOME', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key];
    child = spawn(process.execPath, [AGNES, 'serve', '--host', '127.0.0.1', '--port', String(port)], {
      cwd: dir.path,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
    const deadline = Date.now() + 25_000;
    for (;;) {
      const up = await fetch(`http://127.0.0.1:${port}/api/health`).then(
        () => true,
        () => false,
      );
      if (up) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not start: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    await dir.cleanup();
  });

  it('interrupts the query, exits 0 within 25 s and leaves no temp files', async () => {
    // The serving process created and migrated the state store; a second writer is fine under WAL.
    const db = openStateDb(dataDir);
    const pat = generatePat();
    try {
      const repos = createRepositories(db);
      const admin = await repos.users.create({ email: 'admin@example.com', role: 'admin', name: 'Admin' });
      await repos.tokens.create({
        user_id: admin.id,
        name: 'r16',
        token_hash: pat.hash,
        prefix: pat.prefix,
        expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      });
    } finally {
      await db.destroy();
    }
    const running = fetch(`http://127.0.0.1:${port}/api/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pat.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: RUNAWAY }),
    }).then(
      async (response) => ({ status: response.status, text: await response.text() }),
      () => ({ status: 0, text: '' }),
    );
    // Wait until the sandbox exists: the query is then past the guard and running in the engine.
    const deadline = Date.now() + 10_000;
    while ((await readdir(join(dataDir, 'tmp', 'query')).catch(() => [])).length === 0) {
      if (Date.now() > deadline) throw new Error(`the query never started: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = Date.now();
    child.kill('SIGTERM');
    const code = await exited;
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(25_000);
    const answer = await running;
    // The client hears that the server is stopping (or the connection closes); never a result.
    expect([0, 503]).toContain(answer.status);
    expect(answer.text).not.toContain('"rows"');
    expect(await filesUnder(join(dataDir, 'tmp'))).toEqual([]);
  });
});

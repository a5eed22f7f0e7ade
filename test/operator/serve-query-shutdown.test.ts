import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateDb } from '../../src/core/state/db.js';
import { createRepositories } from '../../src/core/state/repositories/index.js';
import { generatePat } from '../../src/server/auth/pat.js';
import { tempDir } from '../support/extracts.js';
import { killIfRunning } from '../support/processes.js';
import { type ServeProcess, startServe } from '../support/serve-process.js';

/**
 * R16 (10 §2) for the query engine: SIGTERM to `agnes serve` while a query runs interrupts it,
 * the process exits 0 well within 25 s and no sandbox scratch directory is left behind.
 */

const JWT_SECRET = 'serve-query-test-secret-0123456789abcdef-01234';
const RUNAWAY = 'SELECT sum(a.range * b.range) FROM range(100000000) a, range(100000000) b';

/** Every file below `dir` (directories themselves are not leftovers). */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name));
}

describe('agnes serve: SIGTERM during a query (R16)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let dataDir: string;
  let server: ServeProcess;

  beforeAll(async () => {
    dir = await tempDir('agnes-serve-query-');
    dataDir = join(dir.path, 'data');
    const configDir = join(dir.path, 'config');
    await mkdir(configDir, { recursive: true });
    server = await startServe({ cwd: dir.path, dataDir, configDir, jwtSecret: JWT_SECRET });
  });

  afterAll(async () => {
    await killIfRunning(server);
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
    const running = fetch(`http://127.0.0.1:${server.port}/api/query`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pat.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: RUNAWAY }),
    }).then(
      async (response) => ({ status: response.status, text: await response.text() }),
      () => ({ status: 0, text: '' }),
    );
    // Wait until the sandbox exists: the query is then past the guard and running in the engine.
    const deadline = Date.now() + 10_000;
    while ((await sandboxDirs(dataDir)) === 0) {
      if (Date.now() > deadline) throw new Error(`the query never started: ${server.stdout}${server.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    const signalled = Date.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(25_000);
    const answer = await running;
    // The client hears that the server is stopping (or the connection closes); never a result.
    expect([0, 503]).toContain(answer.status);
    expect(answer.text).not.toContain('"rows"');
    expect(await filesUnder(join(dataDir, 'tmp'))).toEqual([]);
  });
});

/** Query sandboxes open under the replica's temp directory (`DATA_DIR/tmp/<instance_id>/query`). */
async function sandboxDirs(dataDir: string): Promise<number> {
  let count = 0;
  for (const replica of await readdir(join(dataDir, 'tmp')).catch(() => []))
    count += (await readdir(join(dataDir, 'tmp', replica, 'query')).catch(() => [])).length;
  return count;
}

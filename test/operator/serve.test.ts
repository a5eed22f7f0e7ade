import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, statfs, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuck, queryRows } from '../../src/core/duckdb/engine.js';
import { openStateDb } from '../../src/core/state/db.js';
import { MIGRATIONS, migrationStatus } from '../../src/core/state/migrate.js';
import { makeExtract, tempDir } from '../support/extracts.js';
import { killIfRunning, type ProcessExit, within } from '../support/processes.js';
import { type ServeProcess, startServe as startServeProcess } from '../support/serve-process.js';

/**
 * `agnes serve` as a process (01 §5–§6, 03 §0.2 and §3): startup on an empty DATA_DIR, health,
 * the error format and request ids, graceful SIGTERM, and what a damaged analytics file does.
 */

const PACKAGE_VERSION = (
  JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const JWT_SECRET = 'serve-test-secret-0123456789abcdef-0123456789';
const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

type Server = ServeProcess;

let root: string;
let dataDir: string;
let configDir: string;
let cleanup: () => Promise<void>;
const servers = new Set<Server>();

interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTP request with the path sent as given (no URL normalisation) and no keep-alive. */
function request(
  port: number,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = (response: Response) => JSON.parse(response.text) as Record<string, unknown>;

/** Starts `agnes serve` in this test's DATA_DIR; killed by afterEach even if startup fails. */
function startServe(): Promise<Server> {
  return startServeProcess({
    cwd: root,
    dataDir,
    configDir,
    jwtSecret: JWT_SECRET,
    onSpawn: (server) => servers.add(server),
  });
}

async function stop(server: Server): Promise<ProcessExit> {
  server.child.kill('SIGTERM');
  return within(server.exited, 10_000, 'exit after SIGTERM');
}

/**
 * What /api/health must say for a DATA_DIR with a readable published generation, no failed
 * source and no stale table (03 §3): healthy, unless the disk is below 5% free, which degrades.
 */
async function expectedHealth(): Promise<'healthy' | 'degraded'> {
  const disk = await statfs(dataDir);
  return disk.blocks > 0 && disk.bavail / disk.blocks < 0.05 ? 'degraded' : 'healthy';
}

function expectHealthBody(response: Response, status: string): void {
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  expect(String(response.headers['x-request-id'])).toMatch(REQUEST_ID);
  const body = json(response);
  expect(Object.keys(body).sort()).toEqual(['status', 'timestamp', 'version']);
  expect(body.status).toBe(status);
  expect(body.version).toBe(PACKAGE_VERSION);
  expect(String(body.timestamp)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(Math.abs(Date.parse(String(body.timestamp)) - Date.now())).toBeLessThan(60_000);
}

/** No response leaks where the data lives or how the code failed (03 §0.2, S10). */
function expectClean(response: Response): void {
  expect(response.text).not.toContain(dataDir);
  expect(response.text).not.toContain(root);
  expect(response.text).not.toMatch(/\n\s+at |node_modules|Error:|FST_/);
}

async function published(): Promise<{ generation: number; mode: string; report: unknown; views: string[] }> {
  const reader = await openDuck(join(dataDir, 'analytics', 'server.duckdb'), { readOnly: true });
  try {
    const [build] = await queryRows(reader.conn, 'SELECT generation, mode, report FROM _agnes_build');
    const views = await queryRows<{ view_name: string }>(
      reader.conn,
      `SELECT view_name FROM duckdb_views()
       WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal ORDER BY view_name`,
    );
    return {
      generation: Number(build?.generation),
      mode: String(build?.mode),
      report: JSON.parse(String(build?.report)),
      views: views.map((v) => v.view_name),
    };
  } finally {
    reader.close();
  }
}

beforeEach(async () => {
  const dir = await tempDir('agnes-serve-');
  root = dir.path;
  cleanup = dir.cleanup;
  dataDir = join(root, 'data');
  configDir = join(root, 'config');
  await mkdir(configDir, { recursive: true });
});

afterEach(async () => {
  for (const server of servers) await killIfRunning(server);
  servers.clear();
  await cleanup();
});

describe('agnes serve', () => {
  it('on an empty DATA_DIR migrates the state store, publishes an empty generation and is healthy', async () => {
    const server = await startServe();

    // Published generation with nothing in it: extracts/ does not exist (02 §2.2).
    expect(await readdir(join(dataDir, 'analytics'))).toEqual(['server.duckdb']);
    const build = await published();
    expect(build).toMatchObject({ generation: 1, mode: 'full', views: [] });
    expect(build.report).toMatchObject({
      generation: 1,
      views: 0,
      sources: {},
      skipped_entries: [{ entry: 'extracts', reason: 'no_extracts' }],
    });

    // The state store is migrated (a concurrent reader is fine under WAL) and holds no users or jobs.
    const db = openStateDb(dataDir);
    try {
      const versions = await db.selectFrom('schema_version').select('version').execute();
      expect(versions).toEqual([{ version: Object.keys(MIGRATIONS).length }]);
      const status = await migrationStatus(db);
      expect(status.map((m) => m.name)).toEqual(Object.keys(MIGRATIONS));
      expect(status.every((m) => m.executedAt !== null)).toBe(true);
      expect(await db.selectFrom('users').selectAll().execute()).toEqual([]);
      expect(await db.selectFrom('sync_jobs').selectAll().execute()).toEqual([]);
    } finally {
      await db.destroy();
    }

    // Healthy: the generation is readable and reports no failed source, no table can be stale,
    // and the state store answers; only a disk under 5% free would make it degraded.
    const expected = await expectedHealth();
    const health = await request(server.port, 'GET', '/api/health');
    expect(health.status).toBe(200);
    expectHealthBody(health, expected);
    expectClean(health);

    const slash = await request(server.port, 'GET', '/api/health/');
    expect(slash.status).toBe(200);
    expectHealthBody(slash, expected);

    const head = await request(server.port, 'HEAD', '/api/health');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers['content-type']).toMatch(/^application\/json/);
    expect(String(head.headers['x-request-id'])).toMatch(REQUEST_ID);
  });

  it('answers errors in the documented format with a request id and nothing internal', async () => {
    const server = await startServe();
    const responses: Response[] = [];
    const expectError = async (
      method: string,
      path: string,
      status: number,
      code: string,
      headers: Record<string, string> = {},
      body?: string,
    ) => {
      const response = await request(server.port, method, path, headers, body);
      responses.push(response);
      expect(response.status, `${method} ${path}`).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      const id = String(response.headers['x-request-id']);
      expect(id).toMatch(REQUEST_ID);
      const parsed = json(response);
      expect(Object.keys(parsed).sort()).toEqual(['code', 'detail', 'request_id']);
      expect(parsed).toMatchObject({ code, request_id: id });
      expect(typeof parsed.detail).toBe('string');
      return id;
    };

    await expectError('GET', '/api/nope', 404, 'not_found');
    await expectError('GET', '/api/nope/', 404, 'not_found');
    await expectError('GET', '/api/health/extra', 404, 'not_found');
    await expectError(
      'POST',
      '/api/nope',
      404,
      'not_found',
      { 'content-type': 'application/json' },
      '{"a":1}',
    );
    // Malformed URLs fail before routing; they still get the format and an id, not Fastify's own body.
    await expectError('GET', '/%', 400, 'bad_request');
    await expectError('GET', '/api/%E0%A4%A', 400, 'bad_request');

    // A valid incoming X-Request-Id (≤ 64 of [A-Za-z0-9_-]) is echoed; anything else is replaced.
    const valid = ['abc_DEF-123', 'x'.repeat(64)];
    for (const sent of valid) {
      expect(await expectError('GET', '/api/nope', 404, 'not_found', { 'x-request-id': sent })).toBe(sent);
    }
    const invalid = ['y'.repeat(65), 'z'.repeat(100), 'has space', 'semi;colon', 'slash/id', 'dot.id'];
    const replaced = new Set<string>();
    for (const sent of invalid) {
      const id = await expectError('GET', '/api/nope', 404, 'not_found', { 'x-request-id': sent });
      expect(id).not.toBe(sent);
      replaced.add(id);
    }
    expect(replaced.size).toBe(invalid.length);
    const health = await request(server.port, 'GET', '/api/health', { 'x-request-id': 'health-check-1' });
    responses.push(health);
    expect(health.headers['x-request-id']).toBe('health-check-1');

    for (const response of responses) expectClean(response);
  });

  it('exits 0 promptly on SIGTERM, closing the state store and the port', async () => {
    const server = await startServe();
    expect((await request(server.port, 'GET', '/api/health')).status).toBe(200);
    const started = Date.now();
    expect(await stop(server)).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(10_000);
    // SQLite removes its WAL when the last connection closes cleanly: the store was closed.
    expect(existsSync(join(dataDir, 'state', 'system.sqlite'))).toBe(true);
    expect(existsSync(join(dataDir, 'state', 'system.sqlite-wal'))).toBe(false);
    await expect(request(server.port, 'GET', '/api/health')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  // 03 §3 calls the instance unhealthy when the analytics DB is unusable. At startup the file is
  // derived data: serve publishes whenever nothing readable is published (as on an empty DATA_DIR),
  // so a damaged file is rebuilt from the extracts and the instance starts healthy. Once running,
  // serve does not rebuild by itself, and a damaged file makes health 503 (next test).
  it.each([
    {
      damage: 'garbage bytes',
      write: (path: string) => writeFile(path, 'this is not a DuckDB file\n'.repeat(100)),
    },
    { damage: 'an empty file', write: (path: string) => writeFile(path, '') },
    {
      damage: 'a DuckDB file without the build record',
      write: async (path: string) => {
        const duck = await openDuck(path);
        await duck.conn.run('CREATE TABLE unrelated AS SELECT 1 AS x');
        await duck.conn.run('CHECKPOINT');
        duck.close();
      },
    },
  ])('rebuilds a server.duckdb holding $damage at startup, then reports healthy', async ({ write }) => {
    await makeExtract(join(dataDir, 'extracts'), 'alpha', [
      { name: 'orders', rows: 12, extractedAt: new Date().toISOString() },
    ]);
    await mkdir(join(dataDir, 'analytics'), { recursive: true });
    await write(join(dataDir, 'analytics', 'server.duckdb'));

    const server = await startServe();
    expect(await readdir(join(dataDir, 'analytics'))).toEqual(['server.duckdb']);
    const build = await published();
    expect(build).toMatchObject({ generation: 1, mode: 'full', views: ['orders'] });
    const health = await request(server.port, 'GET', '/api/health');
    expect(health.status).toBe(200);
    expectHealthBody(health, await expectedHealth());
  });

  it('answers 503 unhealthy once the published analytics file becomes unusable while serving', async () => {
    const server = await startServe();
    expect((await request(server.port, 'GET', '/api/health')).status).toBe(200);

    const analytics = join(dataDir, 'analytics', 'server.duckdb');
    await writeFile(`${analytics}.damaged`, 'garbage');
    await rename(`${analytics}.damaged`, analytics);

    // Health is computed at most every 5 s and shared, so poll with a deadline.
    const deadline = Date.now() + 20_000;
    let health = await request(server.port, 'GET', '/api/health');
    while (health.status === 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      health = await request(server.port, 'GET', '/api/health');
    }
    expect(health.status).toBe(503);
    expectHealthBody(health, 'unhealthy');
    expectClean(health);
    expect(await stop(server)).toEqual({ code: 0, signal: null });
  });
});

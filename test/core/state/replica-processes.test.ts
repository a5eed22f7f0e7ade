import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createRepositories, type Repositories } from '../../../src/core/state/repositories/index.js';
import { makeExtract } from '../../support/extracts.js';
import { killIfRunning } from '../../support/processes.js';
import { type ServeProcess, serveApi, startServe } from '../../support/serve-process.js';
import { createUser, type TestUser } from '../../support/server.js';
import { openTestDatabase, skipWithoutPostgres, type TestDatabase } from './repositories/fresh-store.js';

/**
 * Two `agnes serve` processes (from dist/, built by `npm test`'s pretest) on one PostgreSQL
 * database and one DATA_DIR, sharing nothing else (13 §5): ten rebuilds requested on both at once
 * cause at most two runs, a logout on one is refused on the other at once, a queued job is run by
 * exactly one, and the login rate limit counts attempts made on both. PostgreSQL only.
 */

const JWT_SECRET = 'replica-processes-secret-0123456789abcdef-0123';

let database: TestDatabase;
let repos: Repositories;
let admin: TestUser;
const servers: ServeProcess[] = [];

describe('two agnes serve processes on one PostgreSQL database', () => {
  beforeEach((context) => skipWithoutPostgres(context));

  beforeAll(async () => {
    // Without PostgreSQL every test is skipped, saying why.
    if (inject('postgresUnavailable')) return;
    database = await openTestDatabase({ migrated: true });
    repos = createRepositories(database.db);
    admin = await createUser({ repos }, 'admin');
    await makeExtract(join(database.dataDir, 'extracts'), 'shop', [
      { name: 'orders', rows: 40 },
      { name: 'events', rows: 30, shards: 3 },
    ]);
    const configDir = join(database.dataDir, 'config');
    await mkdir(configDir);
    await writeFile(
      join(configDir, 'instance.yaml'),
      [
        'jobs:',
        '  heartbeat_seconds: 1',
        'scheduler:',
        '  in_process: false',
        'auth:',
        '  rate_limits:',
        '    login: { max: 4, window_seconds: 60 }',
        '',
      ].join('\n'),
    );
    // One after the other, as a rolling start would: each migrates (nothing left) and rebuilds.
    for (let i = 0; i < 2; i += 1)
      await startServe({
        cwd: database.dataDir,
        dataDir: database.dataDir,
        configDir,
        jwtSecret: JWT_SECRET,
        env: { DATABASE_URL: database.postgres!.url, LOG_LEVEL: 'info' },
        onSpawn: (server) => servers.push(server),
      });
  }, 90_000);

  afterAll(async () => {
    for (const server of servers) await killIfRunning(server);
    await database?.remove();
  });

  it('are two replicas with their own instance_id', async () => {
    const seen = await Promise.all(
      servers.map(
        async (server) => (await serveApi(server, 'GET', '/api/health/detailed', { auth: admin.auth })).body,
      ),
    );
    const ids = seen.map((body) => body.services.replica.instance_id);
    expect(new Set(ids).size).toBe(2);
    expect(seen.every((body) => body.services.state_store.dialect === 'postgres')).toBe(true);
  });

  it('run ten rebuilds requested on both at once at most twice', async () => {
    const [a, b] = servers;
    const before = await serveApi(a!, 'POST', '/api/admin/rebuild', { auth: admin.auth });
    expect(before.status).toBe(200);

    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        serveApi(i % 2 ? a! : b!, 'POST', '/api/admin/rebuild', { auth: admin.auth }),
      ),
    );

    expect(replies.map((reply) => reply.status)).toEqual(Array(10).fill(200));
    const generations = new Set(replies.map((reply) => reply.body.generation as number));
    const first = before.body.generation as number;
    expect(generations.size).toBeLessThanOrEqual(2);
    for (const generation of generations) {
      expect(generation).toBeGreaterThan(first);
      expect(generation).toBeLessThanOrEqual(first + 2);
    }
    const next = await serveApi(b!, 'POST', '/api/admin/rebuild', { auth: admin.auth });
    // Nothing else ran: the next run is the one after the covering runs.
    expect(next.body.generation).toBe(Math.max(...generations) + 1);
  });

  it('refuse on one a session logged out on the other, at once', async () => {
    const [a, b] = servers;
    const user = await createUser({ repos }, 'viewer');
    const login = await serveApi(a!, 'POST', '/auth/password/login', {
      body: { email: user.email, password: user.password },
    });
    expect(login.status).toBe(200);
    const session = `Bearer ${login.body.access_token}`;
    expect((await serveApi(b!, 'GET', '/auth/me', { auth: session })).status).toBe(200);

    expect((await serveApi(a!, 'POST', '/auth/logout', { auth: session, body: {} })).status).toBeLessThan(
      400,
    );

    expect((await serveApi(b!, 'GET', '/auth/me', { auth: session })).status).toBe(401);
  });

  it('run a queued job on exactly one of them', async () => {
    const job = await repos.jobs.create({
      kind: 'profile',
      requested_by: null,
      source: null,
      tables: ['orders'],
    });

    const deadline = Date.now() + 20_000;
    let seen = await repos.jobs.get(job.id);
    while (seen?.status === 'queued' || seen?.status === 'running') {
      if (Date.now() > deadline) throw new Error('the queued job was not run');
      await sleep(100);
      seen = await repos.jobs.get(job.id);
    }

    const ran = servers.filter(
      (server) => server.stdout.includes(job.id) && server.stdout.includes('profile job finished'),
    );
    expect(ran).toHaveLength(1);
    const claimedBy = (await serveApi(ran[0]!, 'GET', '/api/health/detailed', { auth: admin.auth })).body
      .services.replica.instance_id;
    expect(seen?.claimed_by).toBe(claimedBy);
  });

  it('count login attempts made on either against one limit', async () => {
    const [a, b] = servers;
    const attempt = (server: ServeProcess, i: number) =>
      serveApi(server, 'POST', '/auth/password/login', {
        body: { email: `nobody-${i}@example.com`, password: 'Wrong-Password-123' },
      });

    const statuses: number[] = [];
    for (const [i, server] of [a!, b!, a!, b!, a!, b!, a!, b!].entries())
      statuses.push((await attempt(server, i)).status);

    // The limit is 4 a minute: counted per replica, all eight would be answered. Earlier tests'
    // logins count too, so fewer than four may be.
    const answered = statuses.filter((status) => status === 401).length;
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThanOrEqual(4);
    expect(statuses.slice(answered)).toEqual(Array(8 - answered).fill(429));
    expect(statuses.slice(-2)).toEqual([429, 429]);
  });
});

import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, withServer } from '../../support/server.js';
import { openTestDatabase, skipWithoutPostgres, type TestDatabase } from './repositories/fresh-store.js';

/**
 * Two replicas (13 §3, §5): two runtimes and apps in this one test process, each with its own
 * connection pool, job runner and rate-limit store, sharing only the PostgreSQL database and the
 * DATA_DIR. Runs in the `postgres` project only: with SQLite there is one process by design.
 */
describe('two replicas on one PostgreSQL database and one DATA_DIR', () => {
  let database: TestDatabase | undefined;
  const replicas: TestServer[] = [];
  const logs: string[][] = [[], []];

  beforeEach(async (context) => {
    skipWithoutPostgres(context);
    database = await openTestDatabase({ migrated: false });
    // One after the other: each rebuilds the shared analytics DB as it starts.
    for (const log of logs) {
      log.length = 0;
      replicas.push(
        await withServer({
          dataDir: database.dataDir,
          env: { DATABASE_URL: database.postgres!.url },
          config: {
            jobs: { heartbeat_seconds: 1 },
            scheduler: { in_process: false },
            auth: { rate_limits: { login: { max: 4, window_seconds: 60 } } },
          },
          startServices: true,
          logs: log,
        }),
      );
    }
  });

  afterEach(async () => {
    for (const replica of replicas.splice(0)) await replica.close();
    await database?.remove();
  });

  it('gives each replica its own instance_id', async () => {
    const [a, b] = replicas;
    const admin = await createUser(a!.ctx, 'admin');
    const seen = await Promise.all(
      [a!, b!].map(async (r) => (await call(r, 'GET', '/api/health/detailed', { auth: admin.auth })).body),
    );
    expect(seen.map((body) => body.services.replica.instance_id)).toEqual([
      a!.ctx.replica.instance_id,
      b!.ctx.replica.instance_id,
    ]);
    expect(a!.ctx.replica.instance_id).not.toBe(b!.ctx.replica.instance_id);
    expect(seen.every((body) => body.services.state_store.dialect === 'postgres')).toBe(true);
  });

  it('runs each queued job on exactly one replica', async () => {
    const [a, b] = replicas;
    const queued = await Promise.all(
      ['t1', 't2', 't3', 't4', 't5', 't6'].map((table) =>
        a!.ctx.repos.jobs.create({ kind: 'profile', requested_by: null, source: null, tables: [table] }),
      ),
    );

    // Neither runner was told: both find the jobs on their heartbeat.
    const deadline = Date.now() + 20_000;
    let jobs = await Promise.all(queued.map((job) => b!.ctx.repos.jobs.get(job.id)));
    while (jobs.some((job) => job?.status === 'queued' || job?.status === 'running')) {
      if (Date.now() > deadline) throw new Error('the queued jobs were not run');
      await sleep(100);
      jobs = await Promise.all(queued.map((job) => b!.ctx.repos.jobs.get(job.id)));
    }

    const ids = [a!.ctx.replica.instance_id, b!.ctx.replica.instance_id];
    for (const job of jobs) {
      expect(job).toMatchObject({ status: 'failed', error: 'the table has no published local data' });
      expect(ids).toContain(job!.claimed_by);
      const runs = logs
        .flat()
        .filter((line) => line.includes('profile job finished') && line.includes(job!.id));
      expect(runs).toHaveLength(1);
    }
  });

  it('refuses on one replica a session logged out on the other, at once', async () => {
    const [a, b] = replicas;
    const user = await createUser(a!.ctx, 'viewer');
    const login = await call(a!, 'POST', '/auth/password/login', {
      body: { email: user.email, password: user.password },
    });
    const session = `Bearer ${login.body.access_token}`;
    expect((await call(b!, 'GET', '/auth/me', { auth: session })).status).toBe(200);

    expect((await call(a!, 'POST', '/auth/logout', { auth: session, body: {} })).status).toBeLessThan(400);

    expect((await call(b!, 'GET', '/auth/me', { auth: session })).status).toBe(401);
  });

  it('shows on one replica, at the next request, attributes set and a PAT revoked on the other', async () => {
    const [a, b] = replicas;
    const user = await createUser(a!.ctx, 'analyst');
    const me = () => call(b!, 'GET', '/auth/me', { auth: user.auth });
    expect((await me()).body.attributes).toEqual({});

    await a!.ctx.repos.userAttributes.replace(user.id, { region: ['eu'] });
    expect((await me()).body.attributes).toEqual({ region: ['eu'] });

    const [pat] = await a!.ctx.repos.tokens.listByUser(user.id);
    await a!.ctx.repos.tokens.revoke(pat!.id, user.id);
    expect((await me()).status).toBe(401);
  });

  it('counts login attempts made on either replica against one limit', async () => {
    const [a, b] = replicas;
    const attempt = (replica: TestServer, i: number) =>
      call(replica, 'POST', '/auth/password/login', {
        body: { email: `nobody-${i}@example.com`, password: 'Wrong-Password-123' },
      });

    const statuses = [];
    for (const [i, replica] of [a!, b!, a!, b!].entries()) statuses.push((await attempt(replica, i)).status);
    const over = await Promise.all([attempt(a!, 4), attempt(b!, 5)]);

    expect(statuses).toEqual([401, 401, 401, 401]);
    expect(over.map((reply) => reply.status)).toEqual([429, 429]);
  });
});

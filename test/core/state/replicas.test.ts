import { readdir, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Connector } from '../../../src/core/extract/connector.js';
import { FakeJira, issueEvent, sendWebhook } from '../../fakes/jira.js';
import { eventually, fastJira, jiraSection, WEBHOOK_SECRET } from '../../support/jira.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { everyone, policyAdmin, policyServer, REGION_FILTER } from '../policies/policy-fixture.js';
import { openTestDatabase, skipWithoutPostgres, type TestDatabase } from './repositories/fresh-store.js';

/**
 * Two replicas started one after the other before each test (each rebuilds the shared analytics
 * DB as it starts), on a new PostgreSQL database and DATA_DIR, and closed after it. `start` opens
 * one, given the database and that replica's log lines.
 */
function useTwoReplicas(start: (database: TestDatabase, log: string[]) => Promise<TestServer>) {
  const state = {
    database: undefined as TestDatabase | undefined,
    replicas: [] as TestServer[],
    logs: [[], []] as string[][],
  };
  beforeEach(async (context) => {
    skipWithoutPostgres(context);
    state.database = await openTestDatabase({ migrated: false });
    for (const log of state.logs) {
      log.length = 0;
      state.replicas.push(await start(state.database, log));
    }
  });
  afterEach(async () => {
    for (const replica of state.replicas.splice(0)) await replica.close();
    await state.database?.remove();
  });
  return state;
}

/** One replica with its services: heartbeats of a second, no scheduler, `extra` on top. */
function startReplica(
  database: TestDatabase,
  log: string[],
  extra: { config: Record<string, unknown>; connectors?: Connector[] },
): Promise<TestServer> {
  return withServer({
    dataDir: database.dataDir,
    env: { DATABASE_URL: database.postgres!.url },
    config: { jobs: { heartbeat_seconds: 1 }, scheduler: { in_process: false }, ...extra.config },
    ...(extra.connectors ? { connectors: extra.connectors } : {}),
    startServices: true,
    logs: log,
  });
}

/**
 * Two replicas (13 §3, §5): two runtimes and apps in this one test process, each with its own
 * connection pool, job runner and rate-limit store, sharing only the PostgreSQL database and the
 * DATA_DIR. Runs in the `postgres` project only: with SQLite there is one process by design.
 */
describe('two replicas on one PostgreSQL database and one DATA_DIR', () => {
  const shared = useTwoReplicas((database, log) =>
    startReplica(database, log, {
      config: {
        auth: {
          rate_limits: {
            login: { max: 4, window_seconds: 60 },
            login_per_email: { max: 2, window_seconds: 900 },
          },
        },
      },
    }),
  );
  const { replicas, logs } = shared;

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
    for (const body of seen)
      expect(body.services.replicas.map((r: { instance_id: string }) => r.instance_id).sort()).toEqual(
        [a!.ctx.replica.instance_id, b!.ctx.replica.instance_id].sort(),
      );
  });

  it('runs ten rebuilds requested on both replicas at once at most twice', async () => {
    const [a, b] = replicas;
    const admin = await createUser(a!.ctx, 'admin');
    const runsBefore = a!.ctx.orchestrator.runs + b!.ctx.orchestrator.runs;
    const before = await a!.ctx.orchestrator.currentGeneration();

    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call(i % 2 ? a! : b!, 'POST', '/api/admin/rebuild', { auth: admin.auth, body: {} }),
      ),
    );

    expect(replies.map((reply) => reply.status)).toEqual(Array(10).fill(200));
    const runs = a!.ctx.orchestrator.runs + b!.ctx.orchestrator.runs - runsBefore;
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThanOrEqual(2);
    const after = await b!.ctx.orchestrator.currentGeneration();
    expect(after - before).toBe(runs);
    // Each caller has the report of the run that covered it: one of the generations published.
    for (const reply of replies) {
      expect(reply.body.generation).toBeGreaterThan(before);
      expect(reply.body.generation).toBeLessThanOrEqual(after);
    }
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

  it('counts failed logins for one email made on either replica against one per-email limit', async () => {
    const [a, b] = replicas;
    const user = await createUser(a!.ctx, 'viewer');
    const login = (replica: TestServer, password: string) =>
      call(replica, 'POST', '/auth/password/login', { body: { email: user.email.toUpperCase(), password } });

    const failed = [
      (await login(a!, 'Wrong-Password-123')).status,
      (await login(b!, 'Wrong-Password-123')).status,
    ];
    // Four attempts from one address stay within the per-address `login` limit (4), so a 429 here
    // is the per-email limit, which only the two replicas' failures together have reached.
    const locked = [await login(a!, user.password), await login(b!, user.password)];

    expect(failed).toEqual([401, 401]);
    expect(locked.map((reply) => reply.status)).toEqual([429, 429]);
    expect(locked.every((reply) => Number(reply.headers.get('retry-after')) > 0)).toBe(true);
    expect(
      await a!.ctx.repos.rateLimits.read(`login_per_email:email:${user.email.toLowerCase()}`, 900_000),
    ).toMatchObject({ count: 2 });
  });

  it('registers both replicas as alive, with heartbeats that keep moving', async () => {
    const [a, b] = replicas;
    const ids = [a!.ctx.replica.instance_id, b!.ctx.replica.instance_id].sort();
    const live = async () => await a!.ctx.repos.replicas.live(3_000);

    const first = await live();
    await expect
      .poll(async () => (await live()).every((r, i) => r.heartbeat_at > first[i]!.heartbeat_at), {
        timeout: 5_000,
      })
      .toBe(true);

    expect(first.map((r) => r.instance_id).sort()).toEqual(ids);
    expect(first.find((r) => r.instance_id === a!.ctx.replica.instance_id)).toMatchObject({
      host: a!.ctx.replica.host,
      started_at: a!.ctx.replica.started_at,
    });
  });

  it('gives each replica its own temp directory: an upload in flight on one is never in the other’s', async () => {
    const [a, b] = replicas;
    const analyst = await createUser(a!.ctx, 'analyst');
    expect(a!.ctx.tempDir).toBe(join(shared.database!.dataDir, 'tmp', a!.ctx.replica.instance_id));
    expect(b!.ctx.tempDir).toBe(join(shared.database!.dataDir, 'tmp', b!.ctx.replica.instance_id));
    expect((await stat(a!.ctx.tempDir)).mode & 0o777).toBe(0o700);

    const boundary = 'replica-boundary';
    const url = new URL(a!.url);
    const request = httpRequest({
      host: url.hostname,
      port: url.port,
      path: '/api/upload/sessions',
      method: 'POST',
      headers: { authorization: analyst.auth, 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    const answered = new Promise<number>((resolve, reject) => {
      request.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      });
      request.on('error', reject);
    });
    request.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="in-flight.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n{"a":1}\n`,
    );
    const parts = (dir: string) => readdir(join(dir, 'uploads')).catch(() => [] as string[]);
    await expect.poll(() => parts(a!.ctx.tempDir), { timeout: 10_000 }).toHaveLength(1);
    const otherWhileInFlight = await readdir(b!.ctx.tempDir, { recursive: true });
    request.end(`\r\n--${boundary}--\r\n`);

    expect(otherWhileInFlight).toEqual([]);
    expect(await answered).toBe(200);
    expect(await parts(a!.ctx.tempDir)).toEqual([]);
  });

  it('leaves a stopped replica no row and no temp directory', async () => {
    const [a, b] = replicas.splice(0, 2);
    replicas.push(b!);
    const { instance_id } = a!.ctx.replica;

    await a!.close();

    expect((await b!.ctx.repos.replicas.live(60_000)).map((r) => r.instance_id)).toEqual([
      b!.ctx.replica.instance_id,
    ]);
    expect(await readdir(join(shared.database!.dataDir, 'tmp'))).not.toContain(instance_id);
  });
});

/**
 * The Jira worker across replicas (13 §3): either replica accepts webhooks into the shared inbox,
 * one worker applies them, and another replica takes the worker over when the leader stops.
 */
describe('the Jira worker of two replicas', () => {
  let fake: FakeJira | undefined;
  beforeEach(async () => {
    fake = await FakeJira.start();
  });
  afterEach(async () => {
    await fake?.close();
  });
  const { replicas, logs } = useTwoReplicas((database, log) =>
    startReplica(database, log, { config: { jira: jiraSection(fake!) }, connectors: [fastJira] }),
  );

  const leading = (log: string[]) =>
    log.filter((line) => line.includes('"lock":"jira-worker"') && line.includes('"msg":"leading"')).length;

  async function deliver(replica: TestServer, key: string): Promise<void> {
    const issue = fake!.addIssue({ key, created: '2024-03-15T10:00:00.000+0000' });
    const answer = await sendWebhook(replica.url, issueEvent('jira:issue_created', issue), {
      secret: WEBHOOK_SECRET,
    });
    expect(answer.status).toBe(200);
  }

  async function issueKeys(replica: TestServer, admin: TestUser): Promise<string[] | null> {
    const answer = await call(replica, 'POST', '/api/query', {
      auth: admin.auth,
      body: { sql: 'SELECT issue_key FROM issues ORDER BY 1' },
    });
    return answer.status === 200 ? answer.body.rows.map((row: string[]) => row[0]) : null;
  }

  it('applies events accepted by the replica without the worker, and moves the worker when its replica stops', async () => {
    const [a, b] = replicas;
    expect(leading(logs[0]!) + leading(logs[1]!)).toBe(1);
    const [leader, other] = leading(logs[0]!) === 1 ? [a!, b!] : [b!, a!];
    const admin = await createUser(leader.ctx, 'admin');

    await deliver(other, 'SUP-1');
    await eventually(
      async () => JSON.stringify(await issueKeys(other, admin)) === '["SUP-1"]',
      20_000,
      'the event accepted by the other replica applied',
    );

    await leader.close();
    await deliver(other, 'SUP-2');
    await eventually(
      async () => JSON.stringify(await issueKeys(other, admin)) === '["SUP-1","SUP-2"]',
      20_000,
      'the worker taken over and the second event applied',
    );
    expect(leading(logs[replicas.indexOf(other)]!)).toBe(1);
  });
});

/** Policy slices across replicas (13 §3): one replica builds a slice, the others use it. */
describe('the policy slices of two replicas', () => {
  // The first publishes crm into the shared DATA_DIR; the second finds it registered.
  const { replicas } = useTwoReplicas(
    async (database) =>
      (await policyServer({ dataDir: database.dataDir, env: { DATABASE_URL: database.postgres!.url } }))
        .server,
  );

  it('builds one slice for readers of one binding asking both replicas at once', async () => {
    const [a, b] = replicas;
    const admin = await createUser(a!.ctx, 'admin');
    const api = policyAdmin(a!, admin);
    await api.addPolicy('sales', { name: 'Regions', applies_to: everyone, row_filter: REGION_FILTER });
    const readers = await Promise.all(Array.from({ length: 10 }, () => createUser(a!.ctx, 'analyst')));
    for (const reader of readers) {
      await api.grant(reader.id, 'crm.*');
      await api.setAttributes(reader.id, { regions: ['EU'] });
    }
    const builds = () => a!.ctx.policies.slices.builds + b!.ctx.policies.slices.builds;
    const before = builds();

    const answers = await Promise.all(
      readers.map((reader, i) =>
        call(i % 2 ? a! : b!, 'POST', '/api/query', {
          auth: reader.auth,
          body: { sql: 'SELECT DISTINCT region FROM sales' },
        }),
      ),
    );

    expect(answers.map((answer) => [answer.status, answer.body.rows])).toEqual(
      Array(10).fill([200, [['EU']]]),
    );
    // One build of `sales`; a sandbox also slices the reader's other bound tables (none here).
    expect(builds() - before).toBe(1);
  });
});

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { schedulerJobs } from '../../../src/core/usecases/scheduler.js';
import { inProcessSchedulerPort } from '../../../src/runtime/scheduler.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

/**
 * The scripts API (03 §15) on the real app, with scripts run by the real bubblewrap: deploy and
 * replace, run with its record and notifications, cooldown, refusals, audit, and the scheduler's
 * view of scheduled scripts.
 */

function scriptsConfig(overrides: Record<string, unknown> = {}) {
  return { scripts: { bwrap_path: inject('bwrapPath'), ...overrides } };
}

/** A node script that prints one output object. */
function printing(output: unknown): string {
  return `process.stdout.write(${JSON.stringify(JSON.stringify(output))});`;
}

/** The entries of an action, newest first, once `count` of them are there. */
async function auditEntries(server: TestServer, action: string, resource?: string, count = 1) {
  // An entry is written once its response has gone out.
  for (let attempt = 0; attempt < 40; attempt += 1) {
    const page = await server.ctx.repos.audit.list({ action, ...(resource ? { resource } : {}) });
    if (page.items.length >= count) return page.items;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [];
}

async function scriptNotifications(server: TestServer, userId: string) {
  const page = await server.ctx.repos.notifications.listForUser(userId);
  return page.items.filter((n) => n.source_kind === 'script');
}

describe('scripts API (03 §15)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;
  let member: TestUser;
  let inactive: TestUser;
  let groupId: string;

  beforeAll(async () => {
    server = await withServer({ config: scriptsConfig() });
    admin = await createUser(server.ctx, 'admin');
    analyst = await createUser(server.ctx, 'analyst');
    member = await createUser(server.ctx, 'viewer');
    inactive = await createUser(server.ctx, 'viewer', { active: false });
    const group = await server.ctx.repos.groups.create({ name: 'ops' });
    groupId = group.id;
    await server.ctx.repos.groups.addMember(group.id, member.id, null);
    await server.ctx.repos.groups.addMember(group.id, inactive.id, null);
  });
  afterAll(async () => server.close());

  it('deploys (201), replaces under the same name (200, same id), lists, and audits without the source', async () => {
    const body = { name: 'nightly.check', source: printing({ notify: false }), schedule: 'every 1h' };
    const first = await call(server, 'POST', '/api/scripts/deploy', { auth: admin.auth, body });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      name: 'nightly.check',
      schedule: 'every 1h',
      owner: admin.id,
      runtime: 'node',
    });
    const second = await call(server, 'POST', '/api/scripts/deploy', {
      auth: admin.auth,
      body: { ...body, runtime: 'python', source: 'print("{}")' },
    });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id: first.body.id, runtime: 'python' });

    const list = await call(server, 'GET', '/api/scripts', { auth: admin.auth });
    expect(list.status).toBe(200);
    const listed = list.body.scripts.find((s: { id: string }) => s.id === first.body.id);
    expect(listed).toMatchObject({
      name: 'nightly.check',
      source: 'print("{}")',
      recipients: [admin.id],
      timeout_seconds: 60,
      enabled: true,
      last_run: null,
    });
    expect(list.body.count).toBe(list.body.scripts.length);

    const entries = await auditEntries(server, 'scripts.deploy', 'nightly.check', 2);
    expect(entries.map((e) => e.params?.source_bytes)).toEqual([11, body.source.length]);
    for (const entry of entries) expect(entry.params).not.toHaveProperty('source');
  });

  it('refuses an invalid schedule, unknown recipients, a timeout above the maximum and an oversized source with 422', async () => {
    const cases = [
      { schedule: 'every 0m' },
      { recipients: ['no-such-user'] },
      { recipients: ['group:no-such-group'] },
      { timeout_seconds: 301 },
      { source: 'x'.repeat(256 * 1024 + 1) },
      { name: 'bad name' },
    ];
    for (const extra of cases) {
      const response = await call(server, 'POST', '/api/scripts/deploy', {
        auth: admin.auth,
        body: { name: 'bad', source: '1', ...extra },
      });
      expect(response.status, JSON.stringify(extra).slice(0, 80)).toBe(422);
      expect(response.body.code).toBe('validation_failed');
    }
  });

  it('runs a deployed script: result, run record, notifications for active recipients, then the cooldown', async () => {
    const deployed = await call(server, 'POST', '/api/scripts/deploy', {
      auth: admin.auth,
      body: {
        name: 'revenue.watch',
        source: printing({ notify: true, title: 'Revenue dipped', message: 'down 12 %', cooldown: '1h' }),
        recipients: [analyst.id, `group:${groupId}`],
      },
    });
    const id = deployed.body.id as string;
    const run = await call(server, 'POST', `/api/scripts/${id}/run`, { auth: admin.auth });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      name: 'revenue.watch',
      exit_code: 0,
      stderr: '',
      truncated: false,
      timed_out: false,
      isolation: 'bwrap',
      notification: { notify: true, title: 'Revenue dipped', message: 'down 12 %' },
      output_error: null,
    });
    for (const user of [analyst, member]) {
      const inbox = await scriptNotifications(server, user.id);
      expect(inbox.map((n) => [n.title, n.message, n.source_id])).toEqual([
        ['Revenue dipped', 'down 12 %', id],
      ]);
    }
    expect(await scriptNotifications(server, inactive.id)).toEqual([]);
    expect(await scriptNotifications(server, admin.id)).toEqual([]);
    const record = await server.ctx.repos.scripts.get(id);
    expect(record).toMatchObject({ last_status: 'ok', last_output: { stderr: '' } });
    expect(record?.last_run).not.toBeNull();

    // Within the cooldown a second firing reaches nobody who got the first.
    expect((await call(server, 'POST', `/api/scripts/${id}/run`, { auth: admin.auth })).status).toBe(200);
    expect(await scriptNotifications(server, analyst.id)).toHaveLength(1);
    expect(await scriptNotifications(server, member.id)).toHaveLength(1);

    const [entry] = await auditEntries(server, 'scripts.run', id, 2);
    expect(entry?.params).toMatchObject({ isolation: 'bwrap', exit_code: 0, notified: true });
    expect(entry?.params).not.toHaveProperty('unisolated');
    expect(await readdir(join(server.ctx.tempDir, 'scripts'))).toEqual([]);
  });

  it('reports output that breaks the contract as output_error and sends nothing', async () => {
    for (const [source, error] of [
      ['console.log("hello")', 'not_json'],
      [printing({ notify: true }), 'invalid_shape'],
    ] as const) {
      const run = await call(server, 'POST', '/api/scripts/run', { auth: admin.auth, body: { source } });
      expect(run.status).toBe(200);
      expect(run.body).toMatchObject({ output_error: error, notification: null, name: 'ad-hoc' });
    }
    expect(await scriptNotifications(server, admin.id)).toEqual([]);
  });

  it('notifies only the running admin on an ad-hoc run, and takes python and a timeout', async () => {
    const run = await call(server, 'POST', '/api/scripts/run', {
      auth: admin.auth,
      body: {
        name: 'try.it',
        runtime: 'python',
        timeout_seconds: 10,
        source: 'import json\nprint(json.dumps({"notify": True, "message": "from python"}))',
      },
    });
    expect(run.status).toBe(200);
    expect(run.body.notification).toEqual({ notify: true, title: 'try.it', message: 'from python' });
    expect((await scriptNotifications(server, admin.id)).map((n) => n.message)).toEqual(['from python']);
    expect(await scriptNotifications(server, analyst.id)).toHaveLength(1);
    const [entry] = await auditEntries(server, 'scripts.run_adhoc');
    expect(entry?.params).toMatchObject({ name: 'try.it', runtime: 'python', isolation: 'bwrap' });
  });

  it('answers 400 to an empty ad-hoc source and 404 to unknown scripts', async () => {
    const empty = await call(server, 'POST', '/api/scripts/run', {
      auth: admin.auth,
      body: { source: '  \n' },
    });
    expect(empty.status).toBe(400);
    expect(empty.body.code).toBe('empty_source');
    for (const [method, path] of [
      ['POST', '/api/scripts/nope/run'],
      ['DELETE', '/api/scripts/nope'],
    ] as const)
      expect((await call(server, method, path, { auth: admin.auth })).status).toBe(404);
  });

  it('kills a run at its timeout and records it, without holding up other requests', async () => {
    const deployed = await call(server, 'POST', '/api/scripts/deploy', {
      auth: admin.auth,
      body: { name: 'spin', source: 'while (true) {}', timeout_seconds: 2 },
    });
    const running = call(server, 'POST', `/api/scripts/${deployed.body.id}/run`, { auth: admin.auth });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    expect((await call(server, 'GET', '/api/health')).status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
    const run = await running;
    expect(run.body).toMatchObject({
      timed_out: true,
      exit_code: null,
      output_error: null,
      notification: null,
    });
    expect(await server.ctx.repos.scripts.get(deployed.body.id)).toMatchObject({ last_status: 'timeout' });
  });

  it('lets the scheduler’s admin service account run a deployed script, and lists scheduled scripts as its jobs', async () => {
    const service = await createUser(server.ctx, 'admin', { service: true });
    const deployed = await call(server, 'POST', '/api/scripts/deploy', {
      auth: admin.auth,
      body: { name: 'scheduled', source: printing({ notify: false }), schedule: 'every 15m' },
    });
    const id = deployed.body.id as string;
    await call(server, 'POST', '/api/scripts/deploy', {
      auth: admin.auth,
      body: { name: 'by.hand', source: printing({ notify: false }), schedule: 'manual' },
    });
    const jobs = await call(server, 'GET', '/api/scheduler/jobs', { auth: service.auth });
    const scriptJobs = jobs.body.jobs.filter((job: { kind: string }) => job.kind === 'script');
    expect(scriptJobs.map((job: { target_id: string }) => job.target_id)).not.toContain(
      (await server.ctx.repos.scripts.getByName('by.hand'))?.id,
    );
    expect(scriptJobs.find((job: { target_id: string }) => job.target_id === id)).toEqual({
      id: `script:${id}`,
      kind: 'script',
      target_id: id,
      source: null,
      schedule: 'every 15m',
      enabled: true,
      last_run_at: null,
      trigger: { method: 'POST', path: `/api/scripts/${id}/run`, body: null },
    });
    const run = await call(server, 'POST', `/api/scripts/${id}/run`, { auth: service.auth });
    expect(run.status).toBe(200);
    const [entry] = await auditEntries(server, 'scripts.run', id);
    expect(entry).toMatchObject({ client: 'service', user_id: service.id });
  });

  it('runs a due script from the in-process scheduler, off the tick, and audits it', async () => {
    const deployed = await call(server, 'POST', '/api/scripts/deploy', {
      auth: admin.auth,
      body: { name: 'in.process', source: printing({ notify: false }), schedule: 'every 5m' },
    });
    const id = deployed.body.id as string;
    const list = await schedulerJobs(server.ctx, new Date());
    const job = list.jobs.find((j) => j.id === `script:${id}`)!;
    const port = inProcessSchedulerPort(server.ctx);
    await port.fire({ jobs: [job], source: null, tables: [], request: job.trigger, delayMs: 0 });
    const [entry] = await auditEntries(server, 'scripts.run', id);
    expect(entry).toMatchObject({ user_id: null, client: 'service', result: 'ok' });
    expect(entry?.params).toMatchObject({ scheduled: true, isolation: 'bwrap' });
    expect(await server.ctx.repos.scripts.get(id)).toMatchObject({ last_status: 'ok' });
    expect(
      (await schedulerJobs(server.ctx, new Date())).jobs.find((j) => j.id === job.id)?.last_run_at,
    ).not.toBeNull();
  });

  it('refuses every route to non-admins', async () => {
    const routes = [
      ['GET', '/api/scripts', undefined],
      ['POST', '/api/scripts/deploy', { name: 'x', source: '1' }],
      ['POST', '/api/scripts/some-id/run', undefined],
      ['POST', '/api/scripts/run', { source: '1' }],
      ['DELETE', '/api/scripts/some-id', undefined],
    ] as const;
    const service = await createUser(server.ctx, 'analyst', { service: true });
    for (const user of [analyst, member, service])
      for (const [method, path, body] of routes) {
        const response = await call(server, method, path, { auth: user.auth, body });
        expect(response.status, `${method} ${path} as ${user.role}`).toBe(403);
      }
  });

  it('deletes a script (204, then 404)', async () => {
    const deployed = await call(server, 'POST', '/api/scripts/deploy', {
      auth: admin.auth,
      body: { name: 'short.lived', source: '1' },
    });
    const path = `/api/scripts/${deployed.body.id}`;
    expect((await call(server, 'DELETE', path, { auth: admin.auth })).status).toBe(204);
    expect((await call(server, 'DELETE', path, { auth: admin.auth })).status).toBe(404);
    const entries = await auditEntries(server, 'scripts.delete', deployed.body.id, 2);
    expect(entries.map((e) => e.status_code)).toEqual([404, 204]);
  });
});

describe('refused runs (03 §15)', () => {
  it('answers 503 isolation_unavailable without bwrap and records the refusal', async () => {
    const server = await withServer({ config: scriptsConfig({ bwrap_path: '/nonexistent/bwrap' }) });
    try {
      const admin = await createUser(server.ctx, 'admin');
      const deployed = await call(server, 'POST', '/api/scripts/deploy', {
        auth: admin.auth,
        body: { name: 'refused', source: printing({ notify: false }) },
      });
      const run = await call(server, 'POST', `/api/scripts/${deployed.body.id}/run`, { auth: admin.auth });
      expect(run.status).toBe(503);
      expect(run.body.code).toBe('isolation_unavailable');
      expect(run.text).not.toContain('/nonexistent');
      expect(await server.ctx.repos.scripts.get(deployed.body.id)).toMatchObject({ last_status: 'refused' });
      const adHoc = await call(server, 'POST', '/api/scripts/run', {
        auth: admin.auth,
        body: { source: '1' },
      });
      expect(adHoc.status).toBe(503);
    } finally {
      await server.close();
    }
  });

  it('runs unisolated only when allowed, and flags the audit entry', async () => {
    const server = await withServer({
      config: scriptsConfig({ bwrap_path: '/nonexistent/bwrap', allow_unisolated: true }),
    });
    try {
      const admin = await createUser(server.ctx, 'admin');
      const run = await call(server, 'POST', '/api/scripts/run', {
        auth: admin.auth,
        body: { source: printing({ notify: false }) },
      });
      expect(run.status).toBe(200);
      expect(run.body.isolation).toBe('none');
      const [entry] = await auditEntries(server, 'scripts.run_adhoc');
      expect(entry?.params).toMatchObject({ isolation: 'none', unisolated: true });
    } finally {
      await server.close();
    }
  });

  it('answers 503 scripts_disabled to deploys and runs when scripts are off', async () => {
    const server = await withServer({ config: scriptsConfig({ enabled: false }) });
    try {
      const admin = await createUser(server.ctx, 'admin');
      for (const [path, body] of [
        ['/api/scripts/deploy', { name: 'x', source: '1' }],
        ['/api/scripts/run', { source: '1' }],
      ] as const) {
        const response = await call(server, 'POST', path, { auth: admin.auth, body });
        expect(response.status).toBe(503);
        expect(response.body.code).toBe('scripts_disabled');
      }
    } finally {
      await server.close();
    }
  });

  it('answers 429 too_many_runs with Retry-After at scripts.max_concurrent', async () => {
    const server = await withServer({ config: scriptsConfig({ max_concurrent: 1 }) });
    try {
      const admin = await createUser(server.ctx, 'admin');
      const slow = call(server, 'POST', '/api/scripts/run', {
        auth: admin.auth,
        body: { source: 'await new Promise((r) => setTimeout(r, 1500));' },
      });
      await new Promise((resolve) => setTimeout(resolve, 400));
      const busy = await call(server, 'POST', '/api/scripts/run', {
        auth: admin.auth,
        body: { source: '1' },
      });
      expect(busy.status).toBe(429);
      expect(busy.body.code).toBe('too_many_runs');
      expect(busy.headers.get('retry-after')).toBe('1');
      expect((await slow).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

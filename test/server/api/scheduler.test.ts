import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncTrigger } from '../../../src/core/schedule/plan.js';
import { ManualClock } from '../../core/state/repositories/fresh-store.js';
import { fakeConnector } from '../../support/connectors.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

/** GET /api/scheduler/jobs (03 §21, 08 §9): what the scheduler reads, and who may read it. */
describe('GET /api/scheduler/jobs', () => {
  let server: TestServer;
  let scheduler: TestUser;
  const clock = new ManualClock('2026-03-15T12:00:00.000Z');

  beforeAll(async () => {
    server = await withServer({
      connectors: [
        fakeConnector({ type: 'acme' }),
        fakeConnector({ type: 'pushy', traits: { direction: 'push' } }),
      ],
      config: {
        data_sources: { acme: { enabled: true }, pushy: { enabled: true } },
        sync: { default_schedule: 'every 2h' },
        scheduler: { timezone: 'Europe/Prague' },
      },
      clock,
    });
    scheduler = await createUser(server.ctx, 'admin', { service: true });
    const { registry, jobs } = server.ctx.repos;
    const table = (id: string, source: string, sync_schedule: string | null, source_type = source) =>
      registry.register({ id, name: id, source, source_type, sync_schedule });
    await table('orders', 'acme', 'every 15m');
    await table('customers', 'acme', null);
    await table('products', 'acme', 'manual');
    await table('leads', 'acme', ' daily 06:00,18:00 ');
    await table('events', 'pushy', 'every 5m');
    await table('archive', 'legacy', 'every 1h', 'acme');
    const job = await jobs.create({ kind: 'sync', requested_by: null, source: 'acme', tables: ['orders'] });
    await jobs.markRunning(job.id);
    clock.advance(5 * 60_000);
  });
  afterAll(async () => server.close());

  it('lists every non-manual table with its effective schedule, last start and trigger', async () => {
    const response = await call(server, 'GET', '/api/scheduler/jobs', { auth: scheduler.auth });
    expect(response.status).toBe(200);
    const job = (
      id: string,
      source: string,
      schedule: string,
      enabled: boolean,
      last: string | null = null,
    ) => ({
      id: `table_sync:${id}`,
      kind: 'table_sync',
      target_id: id,
      source,
      schedule,
      enabled,
      last_run_at: last,
      trigger: syncTrigger(source, [id]),
    });
    expect(response.body).toEqual({
      server_time: '2026-03-15T12:05:00.000Z',
      timezone: 'Europe/Prague',
      in_process: true,
      jobs: [
        {
          id: 'maintenance',
          kind: 'maintenance',
          target_id: null,
          source: null,
          schedule: 'daily 03:00',
          enabled: true,
          last_run_at: null,
          trigger: { method: 'POST', path: '/api/admin/maintenance', body: null },
        },
        // A table of an unconfigured source or a push source would be skipped by a trigger.
        job('archive', 'legacy', 'every 1h', false),
        job('customers', 'acme', 'every 2h', true),
        job('events', 'pushy', 'every 5m', false),
        job('leads', 'acme', 'daily 06:00,18:00', true),
        job('orders', 'acme', 'every 15m', true, '2026-03-15T12:00:00.000Z'),
      ],
    });
    expect(response.body.jobs[1].trigger).toEqual({
      method: 'POST',
      path: '/api/sync/trigger',
      body: { source: 'legacy', tables: ['archive'] },
    });
  });

  it('admits only a service account with the admin role, by its personal access token', async () => {
    const viewerService = await createUser(server.ctx, 'viewer', { service: true });
    const admin = await createUser(server.ctx, 'admin');
    const login = await call(server, 'POST', '/auth/password/login', {
      body: { email: admin.email, password: admin.password },
    });
    expect(login.status).toBe(200);

    expect((await call(server, 'GET', '/api/scheduler/jobs')).status).toBe(401);
    const asViewer = await call(server, 'GET', '/api/scheduler/jobs', { auth: viewerService.auth });
    expect([asViewer.status, asViewer.body.code]).toEqual([403, 'forbidden_role']);
    for (const auth of [admin.auth, `Bearer ${login.body.access_token}`]) {
      const asPerson = await call(server, 'GET', '/api/scheduler/jobs', { auth });
      expect([asPerson.status, asPerson.body.code]).toEqual([403, 'forbidden']);
    }
  });

  it('lists no table without a schedule when the default is manual, nor manual maintenance', async () => {
    const manual = await withServer({
      connectors: [fakeConnector({ type: 'acme' })],
      config: {
        data_sources: { acme: { enabled: true } },
        sync: { default_schedule: 'manual' },
        scheduler: { maintenance_schedule: 'manual' },
      },
    });
    try {
      await manual.ctx.repos.registry.register({
        id: 'orders',
        name: 'orders',
        source: 'acme',
        source_type: 'acme',
      });
      await manual.ctx.repos.registry.register({
        id: 'hourly',
        name: 'hourly',
        source: 'acme',
        source_type: 'acme',
        sync_schedule: 'every 1h',
      });
      const service = await createUser(manual.ctx, 'admin', { service: true });
      const response = await call(manual, 'GET', '/api/scheduler/jobs', { auth: service.auth });
      expect(response.body.jobs.map((j: { id: string }) => j.id)).toEqual(['table_sync:hourly']);
    } finally {
      await manual.close();
    }
  });

  it("lists Jira's SLA poll and consistency check with their schedules, and their last start", async () => {
    const jira = await withServer({
      config: {
        jira: {
          // Configured but never called: the worker does not run here, and the triggers only queue.
          base_url: 'http://127.0.0.1:9',
          email: 'bot@example.com',
          api_token: 'jira-token-0123456789',
          sla_schedule: 'every 30m',
        },
      },
    });
    try {
      const service = await createUser(jira.ctx, 'admin', { service: true });
      const list = async () =>
        (await call(jira, 'GET', '/api/scheduler/jobs', { auth: service.auth })).body.jobs.filter(
          (j: { kind: string }) => j.kind.startsWith('jira_'),
        );
      expect(await list()).toEqual([
        {
          id: 'jira_consistency:jira',
          kind: 'jira_consistency',
          target_id: null,
          source: 'jira',
          schedule: 'every 6h',
          enabled: true,
          last_run_at: null,
          trigger: { method: 'POST', path: '/api/jira/consistency-check', body: null },
        },
        {
          id: 'jira_sla:jira',
          kind: 'jira_sla',
          target_id: null,
          source: 'jira',
          schedule: 'every 30m',
          enabled: true,
          last_run_at: null,
          trigger: { method: 'POST', path: '/api/jira/sla-poll', body: null },
        },
      ]);
      const [, sla] = await list();
      const fired = await call(jira, 'POST', sla.trigger.path, { auth: service.auth });
      expect(fired.status).toBe(202);
      const [, after] = await list();
      expect(after.last_run_at).not.toBeNull();
    } finally {
      await jira.close();
    }
  });
});

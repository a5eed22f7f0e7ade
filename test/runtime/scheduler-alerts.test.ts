import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/jobs/logger.js';
import { SchedulerLoop } from '../../src/core/schedule/loop.js';
import { inProcessSchedulerPort } from '../../src/runtime/scheduler.js';
import { ManualClock, MINUTE } from '../core/state/repositories/fresh-store.js';
import { makeExtract } from '../support/extracts.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

const START = '2026-03-09T00:00:00.000Z';

/**
 * Alerts on the in-process scheduler (08 §1.3, §7) over a simulated hour with a manual clock: the
 * real job list and planner, ticking every five minutes, run each due alert through the use case
 * behind `POST /api/alerts/{id}/run`.
 */
describe('scheduled alerts inside the app', () => {
  let server: TestServer;
  let analyst: TestUser;
  const clock = new ManualClock(START);

  beforeAll(async () => {
    server = await withServer({ clock });
    analyst = await createUser(server.ctx, 'analyst');
    await makeExtract(join(server.dataDir, 'extracts'), 'shop', [{ name: 'orders', rows: 12 }]);
    await server.ctx.repos.registry.register({
      id: 'orders',
      name: 'orders',
      source: 'shop',
      source_type: 'local',
      is_public: true,
    });
    await server.ctx.orchestrator.rebuild();
  });
  afterAll(async () => server.close());

  const create = async (name: string, schedule: string, extra: Record<string, unknown> = {}) => {
    const response = await call(server, 'POST', '/api/alerts', {
      auth: analyst.auth,
      body: {
        name,
        sql: 'SELECT count(*) AS n FROM orders',
        condition: { type: 'first_value', op: '>=', threshold: 10 },
        message_template: '{{n}} orders',
        schedule,
        channels: [],
        cooldown_minutes: 0,
        ...extra,
      },
    });
    expect(response.status).toBe(201);
    return response.body.id as string;
  };

  it('lists enabled, scheduled alerts as jobs and fires an every-10m alert every ten minutes', async () => {
    const every10 = await create('Ten', 'every 10m');
    const manual = await create('Manual', 'manual');
    const disabled = await create('Off', 'every 10m', { enabled: false });
    const daily = await create('Daily', 'daily 00:30');

    const port = inProcessSchedulerPort(server.ctx);
    const list = await port.list();
    const alertJobs = list?.jobs.filter((job) => job.kind === 'alert') ?? [];
    expect(alertJobs.map((job) => job.target_id).sort()).toEqual([daily, every10].sort());
    expect(alertJobs.find((job) => job.target_id === every10)).toMatchObject({
      id: `alert:${every10}`,
      schedule: 'every 10m',
      enabled: true,
      source: null,
      last_run_at: null,
      trigger: { method: 'POST', path: `/api/alerts/${every10}/run`, body: null },
    });
    expect(alertJobs.some((job) => job.target_id === manual || job.target_id === disabled)).toBe(false);

    const loop = new SchedulerLoop({ port, tickMs: 5 * MINUTE, maxJitterSeconds: 0, log: silentLogger });
    const runs = new Map<string, string[]>();
    for (let minute = 0; minute < 60; minute += 5, clock.advance(5 * MINUTE)) {
      expect(await loop.tick()).toBe('ok');
      for (const alert of await server.ctx.repos.alerts.list(analyst.id)) {
        const seen = runs.get(alert.name) ?? [];
        if (alert.last_run_at && seen.at(-1) !== alert.last_run_at) seen.push(alert.last_run_at);
        runs.set(alert.name, seen);
      }
    }
    const at = (minute: number) => new Date(Date.parse(START) + minute * MINUTE).toISOString();
    expect(runs.get('Ten')).toEqual([0, 10, 20, 30, 40, 50].map(at));
    expect(runs.get('Daily')).toEqual([at(0), at(30)]);
    expect(runs.get('Manual')).toEqual([]);
    expect(runs.get('Off')).toEqual([]);

    const fired = (await server.ctx.repos.notifications.listForUser(analyst.id)).items.filter(
      (n) => n.source_id === every10,
    );
    expect(fired).toHaveLength(6);
    expect(fired[0]).toMatchObject({ title: 'Ten', message: '12 orders', source_kind: 'alert' });
  });
});

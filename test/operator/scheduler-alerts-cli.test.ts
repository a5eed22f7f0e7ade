import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ManualClock } from '../core/state/repositories/fresh-store.js';
import { makeExtract } from '../support/extracts.js';
import { type ChildRun, hostEnv, killIfRunning, spawnAgnes, until } from '../support/processes.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

const MINUTE = 60_000;

/**
 * `agnes scheduler` as its own process triggers due alerts over HTTP (08 §1.3, §9): it reads the
 * alert jobs from `GET /api/scheduler/jobs` and calls each one's `POST /api/alerts/{id}/run` with
 * its service account's token; the app (no in-process scheduler) evaluates and notifies.
 */
describe('agnes scheduler and alerts', () => {
  let server: TestServer;
  let dir: string;
  let scheduler: ChildRun;
  let analyst: TestUser;
  let service: TestUser;
  let alertId: string;
  const clock = new ManualClock(new Date().toISOString());

  const logged = (msg: string) =>
    scheduler.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string; jobs?: string[] })
      .filter((line) => line.msg === msg);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agnes-scheduler-alerts-'));
    await mkdir(join(dir, 'app'));
    server = await withServer({
      // Maintenance off: this test is about alerts alone (test/operator/scheduler-cli.test.ts triggers it).
      config: { scheduler: { in_process: false, maintenance_schedule: 'manual' } },
      clock,
      dataDir: join(dir, 'app'),
    });
    analyst = await createUser(server.ctx, 'analyst');
    service = await createUser(server.ctx, 'admin', { service: true });
    await makeExtract(join(server.dataDir, 'extracts'), 'shop', [{ name: 'orders', rows: 12 }]);
    await server.ctx.repos.registry.register({
      id: 'orders',
      name: 'orders',
      source: 'shop',
      source_type: 'local',
      is_public: true,
    });
    await server.ctx.orchestrator.rebuild();
    const created = await call(server, 'POST', '/api/alerts', {
      auth: analyst.auth,
      body: {
        name: 'Orders over ten',
        sql: 'SELECT count(*) AS n FROM orders',
        condition: { type: 'first_value', op: '>', threshold: 10 },
        message_template: '{{alert_name}}: {{n}}',
        schedule: 'every 10m',
        channels: ['websocket'],
        cooldown_minutes: 0,
      },
    });
    expect(created.status).toBe(201);
    alertId = created.body.id;
    await writeFile(join(dir, 'token'), `${service.pat}\n`);
    await writeFile(join(dir, 'scheduler.yaml'), stringify({ scheduler: { tick_seconds: 1 } }));
    scheduler = spawnAgnes(['scheduler'], {
      cwd: dir,
      env: hostEnv({
        AGNES_API_URL: server.url,
        AGNES_TOKEN_FILE: join(dir, 'token'),
        AGNES_CONFIG: join(dir, 'scheduler.yaml'),
        DATA_DIR: join(dir, 'data'),
        LOG_LEVEL: 'info',
      }),
    });
  });

  afterAll(async () => {
    if (scheduler) await killIfRunning(scheduler);
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const runsOfAlert = async () =>
    (await server.ctx.repos.notifications.listForUser(analyst.id)).items.filter(
      (n) => n.source_id === alertId,
    );

  it('runs a due alert through its /run route, then again only when it is due again', async () => {
    await until(async () => (await runsOfAlert()).length === 1, 'the first scheduled run', 20_000);
    await until(async () => logged('triggered').length === 1, 'the trigger logged', 5_000);
    expect(logged('triggered').map((line) => line.jobs)).toEqual([[`alert:${alertId}`]]);
    const [notification] = await runsOfAlert();
    expect(notification).toMatchObject({ title: 'Orders over ten', message: 'Orders over ten: 12' });
    const audit = await server.ctx.repos.audit.list({ action: 'alert.run' }, { page: 1, per_page: 10 });
    expect(audit.items.map((entry) => [entry.user_id, entry.resource])).toEqual([[service.id, alertId]]);

    // Not due again within ten minutes, whatever the ticks.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(await runsOfAlert()).toHaveLength(1);
    clock.advance(10 * MINUTE);
    await until(async () => (await runsOfAlert()).length === 2, 'the run ten minutes later', 10_000);
    await until(async () => logged('triggered').length === 2, 'the second trigger logged', 5_000);
  });
});

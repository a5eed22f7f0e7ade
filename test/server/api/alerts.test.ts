import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, MINUTE } from '../../core/state/repositories/fresh-store.js';
import { makeExtract } from '../../support/extracts.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

const NO_RATE_LIMIT = { auth: { rate_limits: { query: { max: 100_000, window_seconds: 60 } } } };

/**
 * SQL alerts over HTTP (03 §16, 08 §7, §9) against the real app: the guard with the owner's
 * rights at create and at every run, conditions, cooldown, templates, the disabling after three
 * access errors, and who may run an alert.
 */
describe('alerts API (/api/alerts)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;
  let other: TestUser;
  let scheduler: TestUser;
  const clock = new ManualClock(new Date().toISOString());

  beforeAll(async () => {
    server = await withServer({ config: NO_RATE_LIMIT, clock });
    [admin, analyst, other, scheduler] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'admin', { service: true }),
    ]);
    await makeExtract(join(server.dataDir, 'extracts'), 'shop', [
      {
        name: 'orders',
        select:
          "SELECT range AS order_id, (range * 13 % 97)::DECIMAL(10,2) * 1.5 AS amount, CASE WHEN range % 3 = 0 THEN 'open' ELSE 'closed' END AS status FROM range(40)",
      },
      { name: 'customers', select: "SELECT range AS customer_id, 'c' || range AS name FROM range(7)" },
      { name: 'salaries', select: 'SELECT range AS employee_id, range * 1000 AS salary FROM range(5)' },
    ]);
    const { repos } = server.ctx;
    const register = (id: string, extra: Record<string, unknown> = {}) =>
      repos.registry.register({ id, name: id, source: 'shop', source_type: 'local', ...extra });
    await register('orders', { bucket: 'sales' });
    await register('customers', { bucket: 'crm' });
    await register('salaries', { bucket: 'hr', is_discoverable: false });
    for (const user of [analyst, other])
      await repos.permissions.grantUser(user.id, { dataset: 'orders', access: 'read', granted_by: admin.id });
    await server.ctx.orchestrator.rebuild();
  });
  afterAll(async () => server.close());

  const definition = (overrides: Record<string, unknown> = {}) => ({
    name: 'Open orders',
    sql: "SELECT * FROM orders WHERE status = 'open'",
    condition: { type: 'row_count', op: '>', threshold: 5 },
    message_template: '{{alert_name}}: {{row_count}} open, first {{order_id}}{{nope}}',
    schedule: 'every 10m',
    channels: ['websocket'],
    ...overrides,
  });
  const create = (user: TestUser, overrides: Record<string, unknown> = {}) =>
    call(server, 'POST', '/api/alerts', { auth: user.auth, body: definition(overrides) });
  const run = (user: TestUser, id: string) =>
    call(server, 'POST', `/api/alerts/${id}/run`, { auth: user.auth });
  const notificationsOf = async (userId: string) =>
    (await server.ctx.repos.notifications.listForUser(userId)).items;

  it('creates, reads, lists, changes and deletes the owner’s alert; others see nothing', async () => {
    const created = await create(analyst);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      owner_id: analyst.id,
      name: 'Open orders',
      cooldown_minutes: 60,
      enabled: true,
      channels: ['websocket'],
      last_run_at: null,
      last_status: null,
    });
    expect(created.body).not.toHaveProperty('consecutive_errors');
    const id = created.body.id as string;

    expect((await call(server, 'GET', `/api/alerts/${id}`, { auth: analyst.auth })).body.id).toBe(id);
    expect((await call(server, 'GET', `/api/alerts/${id}`, { auth: other.auth })).status).toBe(404);
    expect((await call(server, 'GET', `/api/alerts/${id}`, { auth: admin.auth })).status).toBe(200);
    const mine = await call(server, 'GET', '/api/alerts', { auth: analyst.auth });
    expect(mine.body.alerts.map((a: { id: string }) => a.id)).toContain(id);
    expect((await call(server, 'GET', '/api/alerts', { auth: other.auth })).body.alerts).toEqual([]);

    const patched = await call(server, 'PATCH', `/api/alerts/${id}`, {
      auth: analyst.auth,
      body: { enabled: false, cooldown_minutes: 5, schedule: 'daily 06:00,18:00' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      enabled: false,
      cooldown_minutes: 5,
      schedule: 'daily 06:00,18:00',
    });
    expect(
      (await call(server, 'PATCH', `/api/alerts/${id}`, { auth: other.auth, body: { name: 'x' } })).status,
    ).toBe(404);
    expect((await call(server, 'DELETE', `/api/alerts/${id}`, { auth: other.auth })).status).toBe(404);
    expect((await call(server, 'DELETE', `/api/alerts/${id}`, { auth: analyst.auth })).status).toBe(204);
    expect((await call(server, 'GET', `/api/alerts/${id}`, { auth: analyst.auth })).status).toBe(404);
  });

  it('lists every alert with all=true for admins only', async () => {
    const created = await create(other, { name: 'Other’s' });
    expect((await call(server, 'GET', '/api/alerts?all=true', { auth: analyst.auth })).status).toBe(403);
    const all = await call(server, 'GET', '/api/alerts?all=true', { auth: admin.auth });
    expect(all.status).toBe(200);
    expect(all.body.alerts.map((a: { id: string }) => a.id)).toContain(created.body.id);
    expect(all.body.count).toBe(all.body.alerts.length);
    await call(server, 'DELETE', `/api/alerts/${created.body.id}`, { auth: other.auth });
  });

  it('refuses schedules that can fire less than 5 minutes apart, and text conditions other than == and !=', async () => {
    const refused = [
      { schedule: 'every 4m' },
      { schedule: '*/2 * * * *' },
      { schedule: '1,58 0,23 * * *' },
      { schedule: 'daily 06:00,06:03' },
      { schedule: 'daily 23:58,00:01' },
      { schedule: 'every 0m' },
      { schedule: 'sometimes' },
      { condition: { type: 'first_value', op: '>', threshold: 'open' } },
      { condition: { type: 'row_count', op: '==', threshold: '5' } },
      { condition: { type: 'row_count', op: '>', threshold: 5, column: 'status' } },
      { condition: { type: 'row_count', op: '<>', threshold: 5 } },
      { channels: ['email'] },
      { cooldown_minutes: 10_081 },
      { name: '' },
      { message_template: 'x'.repeat(2001) },
      { owner_id: other.id },
    ];
    for (const overrides of refused) {
      const response = await create(analyst, overrides);
      expect(response.status, JSON.stringify(overrides)).toBe(422);
    }
    for (const schedule of ['every 5m', '*/5 * * * *', 'daily 06:00,06:05', 'manual', '30 2 * * 1-5']) {
      const response = await create(analyst, { schedule });
      expect(response.status, schedule).toBe(201);
      await call(server, 'DELETE', `/api/alerts/${response.body.id}`, { auth: analyst.auth });
    }
    const text = await create(analyst, { condition: { type: 'first_value', op: '!=', threshold: 'open' } });
    expect(text.status).toBe(201);
    await call(server, 'DELETE', `/api/alerts/${text.body.id}`, { auth: analyst.auth });
  });

  it('checks the SQL with the guard and the owner’s rights: a forbidden table is refused at create', async () => {
    const forbidden = await create(analyst, { sql: 'SELECT count(*) FROM customers' });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.code).toBe('table_forbidden');
    const hidden = await create(analyst, { sql: 'SELECT * FROM salaries' });
    expect(hidden).toMatchObject({ status: 400, body: { code: 'unknown_table' } });
    const smuggled = await create(analyst, { sql: "SELECT * FROM read_csv('/etc/passwd')" });
    expect(smuggled.status).toBe(400);
    expect((await create(analyst, { sql: 'DROP TABLE orders' })).body.code).toBe('not_select');
    // The admin may read customers, but a change of the analyst's alert is checked with the analyst's rights.
    const mine = await create(analyst);
    const patched = await call(server, 'PATCH', `/api/alerts/${mine.body.id}`, {
      auth: admin.auth,
      body: { sql: 'SELECT * FROM customers' },
    });
    expect(patched).toMatchObject({ status: 403, body: { code: 'table_forbidden' } });
    expect((await create(admin, { sql: 'SELECT * FROM customers' })).status).toBe(201);
    await call(server, 'DELETE', `/api/alerts/${mine.body.id}`, { auth: analyst.auth });
  });

  it('refuses a 51st alert with 409 too_many_alerts', async () => {
    const owner = await createUser(server.ctx, 'analyst');
    await server.ctx.repos.permissions.grantUser(owner.id, {
      dataset: 'orders',
      access: 'read',
      granted_by: admin.id,
    });
    for (let i = 0; i < 50; i++)
      await server.ctx.repos.alerts.create({
        owner_id: owner.id,
        ...definition({ name: `a${i}` }),
      } as never);
    const refused = await create(owner);
    expect(refused).toMatchObject({ status: 409, body: { code: 'too_many_alerts' } });
  });

  it('fires on row_count with a notification titled by the alert, then suppresses within the cooldown', async () => {
    const id = (await create(analyst, { cooldown_minutes: 30 })).body.id as string;
    const before = (await notificationsOf(analyst.id)).length;

    const first = await run(analyst, id);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ fired: true, suppressed_by_cooldown: false, status: 'ok' });
    const notification = (await notificationsOf(analyst.id)).find((n) => n.id === first.body.notification_id);
    expect(notification).toMatchObject({
      title: 'Open orders',
      message: 'Open orders: 14 open, first 0',
      source_kind: 'alert',
      source_id: id,
    });

    clock.advance(10 * MINUTE);
    const second = await run(analyst, id);
    expect(second.body).toEqual({
      fired: false,
      suppressed_by_cooldown: true,
      notification_id: null,
      status: 'ok',
      error: null,
    });
    const recorded = await call(server, 'GET', `/api/alerts/${id}`, { auth: analyst.auth });
    expect(recorded.body).toMatchObject({ last_run_at: clock.iso(), last_status: 'ok' });
    expect(recorded.body.last_fired_at).toBe(new Date(clock.now().getTime() - 10 * MINUTE).toISOString());

    clock.advance(21 * MINUTE);
    expect((await run(analyst, id)).body).toMatchObject({ fired: true, suppressed_by_cooldown: false });
    expect((await notificationsOf(analyst.id)).length).toBe(before + 2);
    await call(server, 'DELETE', `/api/alerts/${id}`, { auth: analyst.auth });
  });

  it('compares first_value numerically (DECIMAL included) and as text, and never fires on no rows', async () => {
    const cases = [
      {
        sql: 'SELECT sum(amount) AS total FROM orders',
        condition: { op: '>', threshold: 1000 },
        fired: true,
      },
      {
        sql: 'SELECT sum(amount) AS total FROM orders',
        condition: { op: '<', threshold: 1000 },
        fired: false,
      },
      {
        sql: 'SELECT 170141183460469231731687303715884105727::HUGEINT AS h FROM orders LIMIT 1',
        condition: { op: '>=', threshold: 1.7e38 },
        fired: true,
      },
      {
        sql: 'SELECT status FROM orders ORDER BY order_id',
        condition: { op: '==', threshold: 'open' },
        fired: true,
      },
      {
        sql: 'SELECT amount FROM orders WHERE order_id < 0',
        condition: { op: '!=', threshold: 1 },
        fired: false,
      },
    ];
    for (const c of cases) {
      const id = (await create(analyst, { sql: c.sql, condition: { type: 'first_value', ...c.condition } }))
        .body.id as string;
      const response = await run(analyst, id);
      expect(response.body, c.sql).toMatchObject({ fired: c.fired, status: 'ok' });
      await call(server, 'DELETE', `/api/alerts/${id}`, { auth: analyst.auth });
    }
  });

  it('stores the rendered message as plain text: escaping is left to each channel', async () => {
    const id = (
      await create(analyst, {
        sql: 'SELECT \'<b>Tom & "Jerry"</b>\' AS who FROM orders LIMIT 1',
        condition: { type: 'first_value', op: '!=', threshold: 'x' },
        message_template: '<i>{{alert_name}}</i> {{who}}',
        name: 'A <script> & co',
      })
    ).body.id as string;
    const response = await run(analyst, id);
    const notification = (await notificationsOf(analyst.id)).find(
      (n) => n.id === response.body.notification_id,
    );
    expect(notification?.title).toBe('A <script> & co');
    expect(notification?.message).toBe('<i>A <script> & co</i> <b>Tom & "Jerry"</b>');
    await call(server, 'DELETE', `/api/alerts/${id}`, { auth: analyst.auth });
  });

  it('tests an alert: a preview of at most 10 rows and the message; it notifies only with deliver', async () => {
    const id = (await create(analyst, { enabled: false })).body.id as string;
    const before = (await notificationsOf(analyst.id)).length;
    const tested = await call(server, 'POST', `/api/alerts/${id}/test`, { auth: analyst.auth, body: {} });
    expect(tested.status).toBe(200);
    expect(tested.body).toMatchObject({
      fired: true,
      row_count: 14,
      value: 14,
      message: 'Open orders: 14 open, first 0',
      notification_id: null,
    });
    expect(tested.body.preview.rows).toHaveLength(10);
    expect(tested.body.preview).toMatchObject({ truncated: true, columns: ['order_id', 'amount', 'status'] });
    expect((await notificationsOf(analyst.id)).length).toBe(before);

    const delivered = await call(server, 'POST', `/api/alerts/${id}/test`, {
      auth: analyst.auth,
      body: { deliver: true },
    });
    expect(delivered.body.notification_id).toEqual(expect.any(String));
    expect((await notificationsOf(analyst.id)).length).toBe(before + 1);
    // A disabled alert is tested, but not run.
    expect(await run(analyst, id)).toMatchObject({ status: 409, body: { code: 'alert_disabled' } });
    expect(
      (await call(server, 'GET', `/api/alerts/${id}`, { auth: analyst.auth })).body.last_run_at,
    ).toBeNull();
    await call(server, 'DELETE', `/api/alerts/${id}`, { auth: analyst.auth });
  });

  it('is run by its owner or the scheduler’s service account; an admin person gets 403, others 404', async () => {
    const id = (await create(analyst)).body.id as string;
    const person = await run(admin, id);
    expect(person).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect((await run(other, id)).status).toBe(404);
    const viewerService = await createUser(server.ctx, 'viewer', { service: true });
    expect((await run(viewerService, id)).status).toBe(404);
    const byScheduler = await run(scheduler, id);
    expect(byScheduler.status).toBe(200);
    expect(byScheduler.body.status).toBe('ok');
    expect((await run(scheduler, '00000000-0000-0000-0000-000000000000')).status).toBe(404);
    await call(server, 'DELETE', `/api/alerts/${id}`, { auth: analyst.auth });
  });

  it('evaluates with the owner’s current rights: a revoked grant is an error, three in a row disable it', async () => {
    const owner = await createUser(server.ctx, 'analyst');
    const { repos } = server.ctx;
    await repos.permissions.grantUser(owner.id, { dataset: 'orders', access: 'read', granted_by: admin.id });
    const id = (await create(owner, { name: 'Watch orders' })).body.id as string;
    expect((await run(scheduler, id)).body).toMatchObject({ status: 'ok', fired: true });

    await repos.permissions.revokeUser(owner.id, 'orders');
    for (let i = 1; i <= 3; i++) {
      clock.advance(10 * MINUTE);
      const response = await run(scheduler, id);
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ status: 'error', fired: false, notification_id: null });
      expect(response.body.error).toMatch(/access|not found|unknown/i);
    }
    const alert = (await call(server, 'GET', `/api/alerts/${id}`, { auth: owner.auth })).body;
    expect(alert).toMatchObject({ enabled: false, last_status: 'error' });
    const [disabled] = await notificationsOf(owner.id);
    expect(disabled).toMatchObject({
      title: 'Alert disabled: Watch orders',
      source_kind: 'alert',
      source_id: id,
    });
    expect(await run(scheduler, id)).toMatchObject({ status: 409, body: { code: 'alert_disabled' } });
    expect(
      (await notificationsOf(owner.id)).filter((n) => n.title.startsWith('Alert disabled')),
    ).toHaveLength(1);

    // Enabled again, it gets three more chances before it is disabled again.
    await call(server, 'PATCH', `/api/alerts/${id}`, { auth: owner.auth, body: { enabled: true } });
    await run(scheduler, id);
    await run(scheduler, id);
    expect((await call(server, 'GET', `/api/alerts/${id}`, { auth: owner.auth })).body.enabled).toBe(true);
    await run(scheduler, id);
    expect((await call(server, 'GET', `/api/alerts/${id}`, { auth: owner.auth })).body.enabled).toBe(false);
  });

  it('resets the count of access errors after a good run', async () => {
    const owner = await createUser(server.ctx, 'analyst');
    const { repos } = server.ctx;
    const grant = () =>
      repos.permissions.grantUser(owner.id, { dataset: 'orders', access: 'read', granted_by: admin.id });
    await grant();
    const id = (await create(owner)).body.id as string;
    await repos.permissions.revokeUser(owner.id, 'orders');
    await run(scheduler, id);
    await run(scheduler, id);
    await grant();
    expect((await run(scheduler, id)).body.status).toBe('ok');
    await repos.permissions.revokeUser(owner.id, 'orders');
    await run(scheduler, id);
    await run(scheduler, id);
    expect((await call(server, 'GET', `/api/alerts/${id}`, { auth: owner.auth })).body.enabled).toBe(true);
  });
});

import { mkdir, readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newReplicaIdentity } from '../../../src/core/replica/identity.js';
import { ManualClock } from '../../core/state/repositories/fresh-store.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

const DAY = 86_400_000;

/** POST /api/admin/maintenance (03 §12): every store drops what is past retention, and it is audited. */
describe('POST /api/admin/maintenance', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;
  const clock = new ManualClock('2025-01-01T00:00:00.000Z');
  const dead = newReplicaIdentity(clock);
  const alive = newReplicaIdentity(clock);

  beforeAll(async () => {
    server = await withServer({
      clock,
      config: { limits: { audit_retention_days: 30 }, notifications: { retention_days: 10 } },
    });
    admin = await createUser(server.ctx, 'admin');
    analyst = await createUser(server.ctx, 'analyst');
    const { repos } = server.ctx;
    // Old rows, written 40 days before the run.
    await repos.audit.append({ action: 'test.old', result: 'ok' });
    await repos.notifications.create([
      {
        user_id: analyst.id,
        title: 'old',
        message: 'old',
        source_kind: 'system',
        telegram_status: 'skipped',
        ws_status: 'skipped',
      },
    ]);
    await repos.tokens.revokeJti(
      'jti-expired',
      admin.id,
      new Date(clock.now().getTime() + DAY).toISOString(),
    );
    await repos.telegram.createCode({
      code: 'OLDCODE1',
      chat_id: 42,
      expires_at: new Date(clock.now().getTime() + 600_000).toISOString(),
    });
    const item = await repos.knowledge.create({
      title: 'Revenue excludes VAT',
      content: 'Always.',
      category: 'business_logic',
      tags: [],
      status: 'pending',
      contributors: [],
      source_user: analyst.id,
      content_hash: null,
      origin: 'manual',
    });
    await repos.knowledge.transition(item.id, {
      from: ['pending'],
      to: 'approved',
      actor: admin.id,
      review_by: new Date(clock.now().getTime() + 20 * DAY).toISOString(),
    });
    // A rate-limit window counted in the store (as with PostgreSQL), long ended by the run.
    await repos.rateLimits.hit('login_per_email:email:old@example.com', 900_000);
    // Two other replicas' temp directories, both unchanged since: one died then, one still beats.
    await repos.replicas.heartbeat(dead);
    await repos.replicas.heartbeat(alive);
    for (const replica of [dead, alive]) {
      const dir = join(server.dataDir, 'tmp', replica.instance_id);
      await mkdir(join(dir, 'uploads'), { recursive: true });
      await utimes(dir, clock.now(), clock.now());
    }
    clock.advance(40 * DAY);
    await repos.rateLimits.hit('login_per_email:email:recent@example.com', 900_000);
    await repos.replicas.heartbeat(alive);
    // Recent rows, which stay.
    await repos.audit.append({ action: 'test.recent', result: 'ok' });
    await repos.notifications.create([
      {
        user_id: analyst.id,
        title: 'recent',
        message: 'recent',
        source_kind: 'system',
        telegram_status: 'skipped',
        ws_status: 'skipped',
      },
    ]);
  });
  afterAll(async () => server.close());

  it('refuses callers below admin', async () => {
    expect((await call(server, 'POST', '/api/admin/maintenance')).status).toBe(401);
    const asAnalyst = await call(server, 'POST', '/api/admin/maintenance', { auth: analyst.auth });
    expect(asAnalyst.status).toBe(403);
  });

  it('prunes what is past retention, expires knowledge past review, keeps the rest, and audits the run', async () => {
    const response = await call(server, 'POST', '/api/admin/maintenance', { auth: admin.auth });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      pruned: {
        // Only the entry written 40 days ago; the refusals audited by the test above are recent.
        audit_log: 1,
        sync_history: 0,
        notifications: 1,
        revoked_tokens: 1,
        magic_link_tokens: 0,
        pending_codes: 1,
        jira_events: 0,
        jira_deleted_issues: 0,
        policy_slices: 0,
        rate_limit_counters: 1,
        temp_dirs: 1,
        replicas: 1,
      },
      memory_expired: 1,
    });
    const { repos } = server.ctx;
    const audit = await repos.audit.list({}, { page: 1, per_page: 100 });
    expect(audit.items.map((entry) => entry.action)).not.toContain('test.old');
    expect(audit.items.map((entry) => entry.action)).toContain('test.recent');
    const run = (await repos.audit.list({ action: 'maintenance.run' }, { page: 1, per_page: 5 })).items;
    expect(run).toHaveLength(1);
    expect(run[0]).toMatchObject({ user_id: admin.id, result: 'ok' });
    expect(run[0]?.params).toMatchObject({ pruned: { notifications: 1 }, memory_expired: 1 });
    expect(await repos.rateLimits.read('login_per_email:email:recent@example.com', 900_000)).toMatchObject({
      count: 1,
    });
    expect((await readdir(join(server.dataDir, 'tmp'))).sort()).toEqual(
      [alive.instance_id, server.ctx.replica.instance_id].sort(),
    );
    expect((await repos.replicas.live(DAY)).map((r) => r.instance_id)).toEqual([alive.instance_id]);
    const inbox = await repos.notifications.listForUser(analyst.id);
    expect(inbox.items.map((n) => n.title)).toEqual(['recent']);

    const again = await call(server, 'POST', '/api/admin/maintenance', { auth: admin.auth });
    expect(again.body.pruned.audit_log + again.body.pruned.notifications + again.body.memory_expired).toBe(0);
  });

  it("admits the scheduler's admin service account by its token", async () => {
    const service = await createUser(server.ctx, 'admin', { service: true });
    const response = await call(server, 'POST', '/api/admin/maintenance', { auth: service.auth });
    expect(response.status).toBe(200);
  });
});

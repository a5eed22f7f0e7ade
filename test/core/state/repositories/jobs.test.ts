import { describe, expect, it } from 'vitest';
import { type FreshStore, MINUTE, useFreshStore } from './fresh-store.js';

describe('jobs repository', () => {
  const store = useFreshStore();

  it('creates queued jobs with their tables, and finishes them with a report', async () => {
    const { repos, clock } = store();
    const job = await repos.jobs.create({
      kind: 'sync',
      requested_by: null,
      source: 'shop',
      tables: ['orders'],
    });

    expect(job).toMatchObject({
      status: 'queued',
      tables: ['orders'],
      report: null,
      created_at: clock.iso(),
    });
    expect(await repos.jobs.markRunning(job.id)).toBe(true);
    clock.advance(MINUTE);
    const report = { tables: { orders: { status: 'changed', rows: 12 } }, warnings: [] };
    const finished = await repos.jobs.finish(job.id, {
      status: 'partial',
      report,
      error: 'one table failed',
    });

    expect(finished).toMatchObject({
      status: 'partial',
      report,
      error: 'one table failed',
      started_at: job.created_at,
      finished_at: clock.iso(),
    });
    expect(await repos.jobs.get(job.id)).toEqual(finished);
  });

  it('lets exactly one runner claim a queued job', async () => {
    const { repos } = store();
    const job = await repos.jobs.create({ kind: 'sync', requested_by: null, source: 'shop', tables: [] });

    const claims = await Promise.all([repos.jobs.markRunning(job.id), repos.jobs.markRunning(job.id)]);

    expect(claims.filter(Boolean)).toHaveLength(1);
  });

  it('finds the active jobs of a source and merges tables only into a job still queued', async () => {
    const { repos, clock } = store();
    const running = await repos.jobs.create({
      kind: 'sync',
      requested_by: null,
      source: 'shop',
      tables: ['a'],
    });
    await repos.jobs.markRunning(running.id);
    clock.advance(MINUTE);
    const queued = await repos.jobs.create({
      kind: 'sync',
      requested_by: null,
      source: 'shop',
      tables: ['a', 'b'],
    });
    const done = await repos.jobs.create({ kind: 'sync', requested_by: null, source: 'shop', tables: [] });
    await repos.jobs.finish(done.id, { status: 'succeeded', report: null, error: null });
    await repos.jobs.create({ kind: 'sync', requested_by: null, source: 'jira', tables: [] });

    const active = await repos.jobs.findActive('shop');
    const merged = await repos.jobs.mergeTables(queued.id, ['b', 'c']);

    expect(active.map((j) => j.id)).toEqual([running.id, queued.id]);
    expect(merged?.tables).toEqual(['a', 'b', 'c']);
    expect(await repos.jobs.mergeTables(running.id, ['z'])).toBeUndefined();
    expect((await repos.jobs.get(running.id))?.tables).toEqual(['a']);
  });

  it('lists newest first with status, source and kind filters', async () => {
    const { repos, clock } = store();
    await repos.jobs.create({ kind: 'sync', requested_by: null, source: 'shop', tables: [] });
    clock.advance(MINUTE);
    await repos.jobs.create({ kind: 'profile', requested_by: null, source: 'shop', tables: ['orders'] });
    clock.advance(MINUTE);
    const latest = await repos.jobs.create({ kind: 'sync', requested_by: 'u1', source: 'jira', tables: [] });
    await repos.jobs.markRunning(latest.id);

    const page = await repos.jobs.list({}, { page: 1, per_page: 2 });

    expect(page.total).toBe(3);
    expect(page.items.map((j) => [j.kind, j.source])).toEqual([
      ['sync', 'jira'],
      ['profile', 'shop'],
    ]);
    expect((await repos.jobs.list({ status: 'running' })).items.map((j) => j.id)).toEqual([latest.id]);
    expect((await repos.jobs.list({ source: 'shop' })).total).toBe(2);
    expect((await repos.jobs.list({ kind: 'profile' })).items.map((j) => j.tables)).toEqual([['orders']]);
  });

  it('marks jobs left running by a previous process interrupted', async () => {
    const { repos, clock } = store();
    const running = await repos.jobs.create({
      kind: 'rebuild',
      requested_by: null,
      source: null,
      tables: [],
    });
    await repos.jobs.markRunning(running.id);
    const queued = await repos.jobs.create({ kind: 'sync', requested_by: null, source: 'shop', tables: [] });
    clock.advance(MINUTE);

    expect(await repos.jobs.markAllRunningInterrupted()).toBe(1);

    expect(await repos.jobs.get(running.id)).toMatchObject({
      status: 'interrupted',
      finished_at: clock.iso(),
    });
    expect((await repos.jobs.get(queued.id))?.status).toBe('queued');
  });

  it('lets concurrent claims take each queued job once, oldest first, one per source across replicas', async () => {
    const { repos, clock } = store();
    const job = (source: string) =>
      repos.jobs.create({ kind: 'sync', requested_by: null, source, tables: [] });
    const shop = await job('shop');
    clock.advance(MINUTE);
    const crm = await job('crm');
    clock.advance(MINUTE);
    const shopAgain = await job('shop');

    const claims = await Promise.all(
      ['a', 'b', 'a', 'b'].map((replica) => repos.jobs.claimNext('sync', replica)),
    );

    const claimed = claims.filter((c) => c !== undefined);
    expect(claimed.map((c) => c.id).sort()).toEqual([shop.id, crm.id].sort());
    expect(claimed.every((c) => c.status === 'running' && c.heartbeat_at === clock.iso())).toBe(true);
    expect((await repos.jobs.get(shopAgain.id))?.status).toBe('queued');
    expect(await repos.jobs.claimNext('profile', 'a')).toBeUndefined();
  });

  it('renews a replica’s claims and interrupts only running jobs whose claim went stale', async () => {
    const { repos, clock } = store();
    const create = (source: string) =>
      repos.jobs.create({ kind: 'sync', requested_by: null, source, tables: [] });
    await create('shop');
    await create('crm');
    const alive = await repos.jobs.claimNext('sync', 'alive');
    const dead = await repos.jobs.claimNext('sync', 'dead');
    clock.advance(2 * MINUTE);
    await repos.jobs.heartbeat('alive');
    clock.advance(MINUTE);

    expect(await repos.jobs.interruptStale(2.5 * MINUTE)).toBe(1);

    expect(await repos.jobs.get(dead!.id)).toMatchObject({
      status: 'interrupted',
      claimed_by: 'dead',
      finished_at: clock.iso(),
      error: 'the replica running it stopped',
    });
    expect(await repos.jobs.get(alive!.id)).toMatchObject({ status: 'running', claimed_by: 'alive' });
    expect(await repos.jobs.interruptClaimedBy('other')).toBe(0);
    expect(await repos.jobs.interruptClaimedBy('alive')).toBe(1);
    expect((await repos.jobs.get(alive!.id))?.status).toBe('interrupted');
  });

  describe('when each table last started a sync (last_run_at, 08 §1.2)', () => {
    async function started(
      store: FreshStore,
      source: string,
      tables: string[],
      options: { kind?: 'sync' | 'profile'; fail?: boolean } = {},
    ): Promise<string> {
      const job = await store.repos.jobs.create({
        kind: options.kind ?? 'sync',
        requested_by: null,
        source,
        tables,
      });
      await store.repos.jobs.markRunning(job.id);
      const at = store.clock.iso();
      await store.repos.jobs.finish(job.id, {
        status: options.fail ? 'failed' : 'succeeded',
        report: null,
        error: options.fail ? 'boom' : null,
      });
      store.clock.advance(MINUTE);
      return at;
    }

    it('takes the newest started sync naming the table, or naming none (every table of its source)', async () => {
      const s = store();
      await started(s, 'shop', ['orders']);
      const whole = await started(s, 'shop', []);
      const failed = await started(s, 'shop', ['orders'], { fail: true });
      await started(s, 'crm', ['customers']);
      await started(s, 'shop', ['customers'], { kind: 'profile' });
      await s.repos.jobs.create({ kind: 'sync', requested_by: null, source: 'shop', tables: ['customers'] });

      const starts = await s.repos.jobs.lastSyncStarts([
        { id: 'orders', source: 'shop' },
        { id: 'customers', source: 'shop' },
        { id: 'never', source: 'erp' },
      ]);

      // A failed run is still the last attempt; a queued job has not started; a profile job is no
      // sync; the crm job syncs another source's table of the same name.
      expect(Object.fromEntries(starts)).toEqual({ orders: failed, customers: whole });
    });

    it('finds a table whose last start lies beyond many newer jobs', async () => {
      const s = store();
      const old = await started(s, 'shop', ['customers']);
      for (let i = 0; i < 1_100; i += 1) {
        const job = await s.repos.jobs.create({
          kind: 'sync',
          requested_by: null,
          source: 'shop',
          tables: ['orders'],
        });
        await s.repos.jobs.markRunning(job.id);
      }
      const starts = await s.repos.jobs.lastSyncStarts([{ id: 'customers', source: 'shop' }]);
      expect(starts.get('customers')).toBe(old);
    });
  });
});

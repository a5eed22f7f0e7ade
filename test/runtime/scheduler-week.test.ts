import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/jobs/logger.js';
import type { SyncRequest } from '../../src/core/jobs/runner.js';
import { SchedulerLoop } from '../../src/core/schedule/loop.js';
import { inProcessSchedulerPort } from '../../src/runtime/scheduler.js';
import { ManualClock } from '../core/state/repositories/fresh-store.js';
import { fakeConnector } from '../support/connectors.js';
import { type TestServer, withServer } from '../support/server.js';

const MINUTE = 60_000;
/** Every time below lies on a five-minute mark, so a five-minute tick sees each one exactly. */
const TICK = 5 * MINUTE;
const START = '2026-03-09T00:00:00.000Z'; // a Monday
const END = '2026-03-16T00:00:00.000Z';
/** The scheduler is down from Wednesday 05:00 to 19:10: two daily slots and many intervals pass unseen. */
const DOWN_FROM = '2026-03-11T05:00:00.000Z';
const DOWN_UNTIL = '2026-03-11T19:10:00.000Z';

interface Enqueued {
  at: string;
  source: string;
  tables: string[];
}

/**
 * The in-process scheduler over a simulated week with a manual clock: the real job list (registry,
 * `sync_jobs`, the configured sources) and the real planner, ticking every five minutes; the job runner is
 * a recording stand-in that starts every job at once, so `last_run_at` moves as a real start would.
 */
describe('the scheduler over a simulated week (08 §1)', () => {
  let server: TestServer;
  const clock = new ManualClock(START);
  const enqueued: Enqueued[] = [];

  beforeAll(async () => {
    server = await withServer({
      connectors: [fakeConnector({ type: 'acme' }), fakeConnector({ type: 'zeta' })],
      config: { data_sources: { acme: { enabled: true }, zeta: { enabled: true } } },
      clock,
    });
    const { registry, jobs } = server.ctx.repos;
    const table = (id: string, source: string, sync_schedule: string | null) =>
      registry.register({ id, name: id, source, source_type: source, sync_schedule });
    await table('orders', 'acme', 'every 15m');
    await table('customers', 'acme', 'daily 06:00,18:00');
    await table('leads', 'acme', null);
    await table('products', 'acme', 'manual');
    await table('tickets', 'zeta', '30 2 * * 1-5');
    await table('notes', 'zeta', 'every 6h');

    const runner = {
      async enqueueSync(request: SyncRequest) {
        const tables = [...(request.tables ?? [])].sort();
        enqueued.push({ at: clock.iso(), source: request.source, tables });
        const job = await jobs.create({ kind: 'sync', requested_by: null, source: request.source, tables });
        await jobs.markRunning(job.id);
        return (await jobs.finish(job.id, { status: 'succeeded', report: null, error: null }))!;
      },
      enqueueTask(): never {
        throw new Error('no push connector is configured here, so no task is scheduled');
      },
    };
    const newLoop = () =>
      new SchedulerLoop({
        port: inProcessSchedulerPort({ ...server.ctx, jobs: runner }),
        tickMs: TICK,
        maxJitterSeconds: 0,
        log: silentLogger,
      });
    let loop = newLoop();
    for (; clock.iso() < END; clock.advance(TICK)) {
      const now = clock.iso();
      if (now >= DOWN_FROM && now < DOWN_UNTIL) continue;
      // A restart: a new scheduler with an empty memory, as after a crash.
      if (now === DOWN_UNTIL) loop = newLoop();
      expect(await loop.tick()).toBe('ok');
    }
  }, 120_000);
  afterAll(async () => server.close());

  const runsOf = (table: string) => enqueued.filter((e) => e.tables.includes(table)).map((e) => e.at);
  const at = (day: number, time: string) => `2026-03-${String(day).padStart(2, '0')}T${time}:00.000Z`;
  const gaps = (times: string[]) =>
    times.slice(1).map((t, i) => (Date.parse(t) - Date.parse(times[i]!)) / MINUTE);

  it('runs daily slots at their times, and a slot missed while down once on return', () => {
    expect(runsOf('customers')).toEqual([
      at(9, '00:00'), // never ran
      at(9, '06:00'),
      at(9, '18:00'),
      at(10, '06:00'),
      at(10, '18:00'),
      at(11, '19:10'), // 06:00 and 18:00 were missed while down: one catch-up run
      at(12, '06:00'),
      at(12, '18:00'),
      at(13, '06:00'),
      at(13, '18:00'),
      at(14, '06:00'),
      at(14, '18:00'),
      at(15, '06:00'),
      at(15, '18:00'),
    ]);
  });

  it('runs a weekday cron on weekdays only', () => {
    expect(runsOf('tickets')).toEqual([
      at(9, '00:00'),
      at(9, '02:30'),
      at(10, '02:30'),
      at(11, '02:30'),
      at(12, '02:30'),
      at(13, '02:30'),
    ]);
  });

  it('runs every-N tables N apart, resuming from the last start after the downtime', () => {
    const orders = runsOf('orders');
    expect([orders[0], orders.at(-1)]).toEqual([at(9, '00:00'), at(15, '23:55')]);
    expect(new Set(gaps(orders))).toEqual(new Set([15, 19 * 60 + 10 - (4 * 60 + 45)]));
    expect(orders).toContain(at(11, '04:45'));
    expect(orders).toContain(at(11, '19:10'));
    expect(orders).toHaveLength(212 + 404);

    // No schedule: sync.default_schedule, every 1h.
    const leads = runsOf('leads');
    expect([leads[0], leads.at(-1)]).toEqual([at(9, '00:00'), at(15, '23:10')]);
    expect(new Set(gaps(leads))).toEqual(new Set([60, 19 * 60 + 10 - 4 * 60]));

    const notes = runsOf('notes');
    expect(notes.slice(8, 11)).toEqual([at(11, '00:00'), at(11, '19:10'), at(12, '01:10')]);
    expect(notes).toHaveLength(9 + 17);
  });

  it('never runs a manual table, and nothing while the scheduler is down', () => {
    expect(runsOf('products')).toEqual([]);
    expect(enqueued.filter((e) => e.at >= DOWN_FROM && e.at < DOWN_UNTIL)).toEqual([]);
  });

  it('runs maintenance daily at 03:00 (scheduler.maintenance_schedule), once at start and once after the downtime', async () => {
    const runs = await server.ctx.repos.audit.list({ action: 'maintenance.run' }, { page: 1, per_page: 100 });
    expect(runs.items.map((entry) => entry.timestamp).reverse()).toEqual([
      at(9, '00:00'), // never ran
      at(9, '03:00'),
      at(10, '03:00'),
      at(11, '03:00'),
      at(12, '03:00'),
      at(13, '03:00'),
      at(14, '03:00'),
      at(15, '03:00'),
    ]);
    expect(runs.items.every((entry) => entry.result === 'ok' && entry.user_id === null)).toBe(true);
  });

  it('sends one trigger per source and tick, with every due table of that source', () => {
    const calls = enqueued.map((e) => `${e.at} ${e.source}`);
    expect(new Set(calls).size).toBe(calls.length);
    expect(enqueued.filter((e) => e.at === at(9, '06:00'))).toEqual([
      { at: at(9, '06:00'), source: 'acme', tables: ['customers', 'leads', 'orders'] },
      { at: at(9, '06:00'), source: 'zeta', tables: ['notes'] },
    ]);
    expect(enqueued.filter((e) => e.at === at(11, '19:10'))).toEqual([
      { at: at(11, '19:10'), source: 'acme', tables: ['customers', 'leads', 'orders'] },
      { at: at(11, '19:10'), source: 'zeta', tables: ['notes'] },
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import type { SchedulerJob, SchedulerJobList } from '../../../src/contract/index.js';
import {
  jitterMs,
  planTick,
  RETRIGGER_GUARD_MS,
  syncTrigger,
  TriggerMemory,
} from '../../../src/core/schedule/plan.js';

const NOW = '2026-03-15T12:00:00.000Z';
const plus = (ms: number) => new Date(Date.parse(NOW) + ms).toISOString();

function table(id: string, source: string, schedule: string, last: string | null = null): SchedulerJob {
  return {
    id: `table_sync:${id}`,
    kind: 'table_sync',
    target_id: id,
    source,
    schedule,
    enabled: true,
    last_run_at: last,
    trigger: syncTrigger(source, [id]),
  };
}

function list(jobs: SchedulerJob[], serverTime = NOW): SchedulerJobList {
  return { server_time: serverTime, timezone: 'UTC', in_process: false, jobs };
}

const noJitter = { maxJitterSeconds: 0, random: () => 0.5 };

describe('planning a tick', () => {
  it('batches the due tables of a source into one trigger, one per source, in a stable order', () => {
    const plan = planTick(
      list([
        table('orders', 'shop', 'every 15m'),
        table('customers', 'shop', 'every 1h'),
        table('fresh', 'shop', 'every 1h', plus(-60_000)),
        table('tickets', 'crm', 'daily 06:00', '2026-03-14T06:00:00.000Z'),
      ]),
      new TriggerMemory(),
      noJitter,
    );
    expect(
      plan.triggers.map(({ source, tables, request, delayMs }) => ({ source, tables, request, delayMs })),
    ).toEqual([
      {
        source: 'crm',
        tables: ['tickets'],
        request: { method: 'POST', path: '/api/sync/trigger', body: { source: 'crm', tables: ['tickets'] } },
        delayMs: 0,
      },
      {
        source: 'shop',
        tables: ['customers', 'orders'],
        request: {
          method: 'POST',
          path: '/api/sync/trigger',
          body: { source: 'shop', tables: ['customers', 'orders'] },
        },
        delayMs: 0,
      },
    ]);
  });

  it('sends any other kind through its own trigger descriptor, one call per job', () => {
    const maintenance: SchedulerJob = {
      id: 'maintenance',
      kind: 'maintenance',
      target_id: null,
      source: null,
      schedule: 'daily 03:00',
      enabled: true,
      last_run_at: '2026-03-14T03:00:00.000Z',
      trigger: { method: 'POST', path: '/api/admin/maintenance', body: null },
    };
    const plan = planTick(list([maintenance]), new TriggerMemory(), noJitter);
    expect(plan.triggers).toEqual([
      { jobs: [maintenance], source: null, tables: [], request: maintenance.trigger, delayMs: 0 },
    ]);
  });

  it('skips disabled jobs, and reports clock skew and unparsable schedules without triggering them', () => {
    const disabled = { ...table('pushed', 'uploads', 'every 5m'), enabled: false };
    const skewed = table('skewed', 'shop', 'every 5m', plus(60_000));
    const invalid = table('odd', 'shop', 'every 0m');
    const plan = planTick(list([disabled, skewed, invalid]), new TriggerMemory(), noJitter);
    expect(plan.triggers).toEqual([]);
    expect(plan.clockSkew).toEqual([skewed]);
    expect(plan.invalid).toEqual([invalid]);
  });
});

describe('the re-trigger guard (08 §1.3)', () => {
  it('waits for a newer last_run_at, or ten minutes, before triggering a job again', () => {
    const memory = new TriggerMemory();
    const job = table('orders', 'shop', 'every 15m', plus(-20 * 60_000));
    expect(planTick(list([job]), memory, noJitter).triggers).toHaveLength(1);
    // The app has not started it yet: same last_run_at, so no second trigger inside the guard.
    expect(planTick(list([job], plus(30_000)), memory, noJitter).triggers).toEqual([]);
    expect(planTick(list([job], plus(RETRIGGER_GUARD_MS - 1)), memory, noJitter).triggers).toEqual([]);
    // Ten minutes without a start: triggered again.
    expect(planTick(list([job], plus(RETRIGGER_GUARD_MS)), memory, noJitter).triggers).toHaveLength(1);
  });

  it('lets the newer last_run_at decide as soon as the app reports the start', () => {
    const memory = new TriggerMemory();
    planTick(list([table('orders', 'shop', 'every 15m')]), memory, noJitter);
    const started = table('orders', 'shop', 'every 15m', plus(5_000));
    expect(planTick(list([started], plus(60_000)), memory, noJitter).triggers).toEqual([]);
    expect(memory.size).toBe(0);
    // A failed run still counts as the attempt: due again only after its own 15 minutes.
    expect(planTick(list([started], plus(5_000 + 15 * 60_000)), memory, noJitter).triggers).toHaveLength(1);
  });

  it('guards a jittered trigger for its wait as well, and forgets jobs the app stopped listing', () => {
    const memory = new TriggerMemory();
    const job = table('orders', 'shop', 'every 1h');
    const [trigger] = planTick(list([job]), memory, { maxJitterSeconds: 600, random: () => 0.99 }).triggers;
    expect(trigger!.delayMs).toBe(Math.floor(0.99 * 360_000));
    expect(planTick(list([job], plus(RETRIGGER_GUARD_MS + 300_000)), memory, noJitter).triggers).toEqual([]);
    planTick(list([]), memory, noJitter);
    expect(memory.size).toBe(0);
  });
});

describe('jitter (08 §9)', () => {
  it('waits a random 0…min(max jitter, 10 % of the period)', () => {
    expect(jitterMs(15 * 60_000, 600, () => 0.5)).toBe(45_000);
    expect(jitterMs(24 * 3_600_000, 600, () => 0.5)).toBe(300_000);
    expect(jitterMs(24 * 3_600_000, 600, () => 0)).toBe(0);
    expect(jitterMs(15 * 60_000, 0, () => 0.5)).toBe(0);
    expect(jitterMs(null, 600, () => 0.5)).toBe(0);
  });

  it('gives a batch the bound of its most frequent table', () => {
    const plan = planTick(
      list([table('hourly', 'shop', 'every 1h'), table('quarter', 'shop', 'every 15m')]),
      new TriggerMemory(),
      { maxJitterSeconds: 600, random: () => 0.5 },
    );
    expect(plan.triggers.map((t) => t.delayMs)).toEqual([45_000]);
  });
});

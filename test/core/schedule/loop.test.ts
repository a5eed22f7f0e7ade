import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SchedulerJob, SchedulerJobList } from '../../../src/contract/index.js';
import { HttpFailure } from '../../../src/core/http/retry.js';
import type { Logger } from '../../../src/core/jobs/logger.js';
import { SchedulerLoop, type SchedulerPort } from '../../../src/core/schedule/loop.js';
import { type PlannedTrigger, syncTrigger } from '../../../src/core/schedule/plan.js';

interface Line {
  level: string;
  message: string | undefined;
  fields: Record<string, unknown>;
}

function recordingLog(lines: Line[]): Logger {
  const at =
    (level: string) =>
    (fields: object, message?: string): void => {
      lines.push({ level, message, fields: fields as Record<string, unknown> });
    };
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

const orders: SchedulerJob = {
  id: 'table_sync:orders',
  kind: 'table_sync',
  target_id: 'orders',
  source: 'shop',
  schedule: 'every 15m',
  enabled: true,
  last_run_at: null,
  trigger: syncTrigger('shop', ['orders']),
};

/** A port over a scripted app: `answers` are consumed one per list call, the last one repeats. */
function scriptedPort(answers: (SchedulerJobList | null | Error)[]) {
  const fired: { at: number; trigger: PlannedTrigger }[] = [];
  let failFires = 0;
  const port: SchedulerPort = {
    async list() {
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      if (answer instanceof Error) throw answer;
      return answer === null ? null : { ...answer, server_time: new Date().toISOString() };
    },
    async fire(trigger) {
      if (failFires > 0) {
        failFires -= 1;
        throw new HttpFailure('connection', null, 'connection refused');
      }
      fired.push({ at: Date.now(), trigger });
    },
  };
  return { port, fired, failNextFires: (n: number) => (failFires = n) };
}

const listing = (jobs: SchedulerJob[] = [orders]): SchedulerJobList => ({
  server_time: '',
  timezone: 'UTC',
  in_process: false,
  jobs,
});
const unreachable = () => new HttpFailure('connection', null, 'connection refused');

describe('the scheduler loop', () => {
  let lines: Line[];
  const started: SchedulerLoop[] = [];
  const loop = (port: SchedulerPort, options: { maxJitterSeconds?: number; random?: () => number } = {}) => {
    const created = new SchedulerLoop({
      port,
      tickMs: 30_000,
      maxJitterSeconds: options.maxJitterSeconds ?? 0,
      log: recordingLog(lines),
      random: options.random ?? (() => 0.5),
    });
    started.push(created);
    return created;
  };

  beforeEach(() => {
    lines = [];
    vi.useFakeTimers({ now: new Date('2026-03-15T12:00:00Z') });
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((l) => l.stop()));
    vi.useRealTimers();
  });

  it('ticks one interval after the start and then every interval, triggering what is due once', async () => {
    const { port, fired } = scriptedPort([listing()]);
    loop(port).start();
    await vi.advanceTimersByTimeAsync(29_999);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired.map((f) => f.trigger.tables)).toEqual([['orders']]);
    // The app keeps reporting no start: the guard holds for ten minutes, then it triggers again.
    await vi.advanceTimersByTimeAsync(10 * 60_000 - 30_000);
    expect(fired).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fired).toHaveLength(2);
    expect(lines.filter((l) => l.message === 'triggered')[0]?.fields).toEqual({
      jobs: ['table_sync:orders'],
      source: 'shop',
      tables: ['orders'],
      jitter_ms: 0,
    });
  });

  it('backs off from 1 s to 60 s while the app is unreachable, never exits, and recovers', async () => {
    const { port, fired } = scriptedPort([...Array.from({ length: 9 }, unreachable), listing()]);
    loop(port).start();
    await vi.advanceTimersByTimeAsync(
      30_000 + 1_000 + 2_000 + 4_000 + 8_000 + 16_000 + 32_000 + 60_000 + 60_000,
    );
    expect(
      lines.filter((l) => l.message === 'the app is unreachable').map((l) => l.fields.retry_in_ms),
    ).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fired).toHaveLength(1);
    expect(lines.some((l) => l.message === 'the app is reachable again')).toBe(true);
  });

  it('treats a 5xx as unreachable, but keeps ticking on other refusals and logs them once a minute', async () => {
    const refused = new HttpFailure('status', 401, 'the app refused the token (401)');
    const { port } = scriptedPort([new HttpFailure('status', 503, 'unavailable'), refused]);
    loop(port).start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(lines.at(-1)?.fields.retry_in_ms).toBe(1_000);
    // Refused at 31 s, 61 s, 91 s and 121 s, on the tick interval: logged at 31 s and 91 s only.
    await vi.advanceTimersByTimeAsync(1_000 + 3 * 30_000);
    const refusals = lines.filter((l) => l.message === 'could not list the scheduled jobs');
    expect(refusals.map((l) => l.fields.err)).toEqual([refused.message, refused.message]);
    expect(lines.filter((l) => l.message === 'the app is unreachable')).toHaveLength(1);
  });

  it('stands by while the app schedules in-process, and says so once', async () => {
    const { port, fired } = scriptedPort([null, null, listing()]);
    loop(port).start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fired).toHaveLength(1);
    expect(lines.map((l) => l.message).filter((m) => m?.startsWith('s'))).toEqual([
      'standing by: the app schedules its jobs itself',
      'scheduling: the app no longer schedules its jobs itself',
    ]);
  });

  it('sends a jittered trigger after its wait, and drops it when stopped first', async () => {
    const hourly = { ...orders, schedule: 'every 1h' };
    const first = scriptedPort([listing([hourly])]);
    loop(first.port, { maxJitterSeconds: 600, random: () => 0.5 }).start();
    await vi.advanceTimersByTimeAsync(30_000 + 179_999);
    expect(first.fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(first.fired.map((f) => f.trigger.delayMs)).toEqual([180_000]);

    const second = scriptedPort([listing([hourly])]);
    const stopped = loop(second.port, { maxJitterSeconds: 600, random: () => 0.5 });
    stopped.start();
    await vi.advanceTimersByTimeAsync(30_000);
    await stopped.stop();
    await vi.advanceTimersByTimeAsync(600_000);
    expect(second.fired).toEqual([]);
  });

  it('retries a failed trigger on the next tick instead of waiting out the guard', async () => {
    const { port, fired, failNextFires } = scriptedPort([listing()]);
    failNextFires(1);
    loop(port).start();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fired).toEqual([]);
    expect(lines.find((l) => l.message === 'trigger failed')?.fields.err).toBe('connection refused');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(fired).toHaveLength(1);
  });
});

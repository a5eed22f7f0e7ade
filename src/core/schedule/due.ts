import { nextFire, previousFire } from './fire-times.js';
import type { Schedule } from './schedule.js';

const MINUTE_MS = 60_000;

/** How far back a missed `daily` or cron slot is still caught up (08 §1.2). */
export const CATCH_UP_MS = 7 * 24 * 60 * MINUTE_MS;

/** `clock_skew`: the last start lies in the future, which is never due (and worth a log line). */
export type DueState = 'due' | 'not_due' | 'clock_skew';

/**
 * The due rule of 08 §1.2. `lastRunAt` is the last attempt (a start, whatever its outcome). A
 * `daily` or cron slot missed while nothing ran is due once, on the first check after it, for up
 * to seven days.
 */
export function dueState(schedule: Schedule, lastRunAt: Date | null, now: Date, timeZone: string): DueState {
  if (schedule.kind === 'manual') return 'not_due';
  if (lastRunAt === null) return 'due';
  if (lastRunAt.getTime() > now.getTime()) return 'clock_skew';
  if (schedule.kind === 'every')
    return now.getTime() - lastRunAt.getTime() >= schedule.minutes * MINUTE_MS ? 'due' : 'not_due';
  const fire = previousFire(schedule, now, timeZone);
  if (!fire || now.getTime() - fire.getTime() > CATCH_UP_MS) return 'not_due';
  return fire.getTime() > lastRunAt.getTime() ? 'due' : 'not_due';
}

/**
 * The period a schedule repeats at around `now`, which bounds its jitter (08 §9): N for `every N`,
 * otherwise the gap between the slot at or before `now` and the one after it. Null for `manual`
 * and for a pattern that fires no more.
 */
export function periodMs(schedule: Schedule, now: Date, timeZone: string): number | null {
  if (schedule.kind === 'manual') return null;
  if (schedule.kind === 'every') return schedule.minutes * MINUTE_MS;
  const from = previousFire(schedule, now, timeZone) ?? now;
  const next = nextFire(schedule, from, timeZone);
  return next ? next.getTime() - from.getTime() : null;
}

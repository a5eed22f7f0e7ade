import { describe, expect, it } from 'vitest';
import { CATCH_UP_MS, dueState, periodMs } from '../../../src/core/schedule/due.js';
import { nextFire, previousFire, type TimedSchedule } from '../../../src/core/schedule/fire-times.js';
import { parseSchedule } from '../../../src/core/schedule/schedule.js';
import fixture from './due-rule.fixture.json' with { type: 'json' };

const at = (iso: string) => new Date(iso);
const due = (schedule: string, last: string | null, now: string, timeZone = 'UTC') =>
  dueState(parseSchedule(schedule), last === null ? null : at(last), at(now), timeZone);
const timed = (schedule: string) => parseSchedule(schedule) as TimedSchedule;

describe('the due rule (08 §1.2)', () => {
  it.each(fixture.cases)('$schedule, last run $last_run_at, now $now: due $due ($why)', (row) => {
    expect(due(row.schedule, row.last_run_at, row.now, fixture.timezone) === 'due').toBe(row.due);
  });

  it('holds the whole fixture table of the spec', () => {
    expect(fixture.cases).toHaveLength(10);
  });

  it('calls a last run in the future clock skew, never due', () => {
    expect(due('every 15m', '2026-03-15T12:10:00Z', '2026-03-15T12:00:00Z')).toBe('clock_skew');
    expect(due('daily 06:00', '2026-03-16T06:00:00Z', '2026-03-15T12:00:00Z')).toBe('clock_skew');
  });

  it('counts a slot exactly at now, and not one a millisecond later', () => {
    expect(due('daily 06:00', '2026-03-14T06:00:00Z', '2026-03-15T06:00:00Z')).toBe('due');
    expect(due('daily 06:00', '2026-03-14T06:00:00Z', '2026-03-15T05:59:59.999Z')).toBe('not_due');
    expect(due('every 1h', '2026-03-15T11:00:00.001Z', '2026-03-15T12:00:00Z')).toBe('not_due');
  });

  it('runs a slot missed by several days once, and not again after it ran', () => {
    expect(due('daily 06:00', '2026-03-10T06:00:00Z', '2026-03-15T05:00:00Z')).toBe('due');
    expect(due('daily 06:00', '2026-03-15T05:00:10Z', '2026-03-15T05:30:00Z')).toBe('not_due');
  });

  it('looks back at most seven days for a missed slot', () => {
    // A yearly slot: caught up four days late, but no longer after eight.
    expect(due('0 0 1 1 *', '2025-12-01T00:00:00Z', '2026-01-05T00:00:00Z')).toBe('due');
    expect(due('0 0 1 1 *', '2025-12-01T00:00:00Z', '2026-01-09T00:00:00Z')).toBe('not_due');
    expect(CATCH_UP_MS).toBe(7 * 24 * 3_600_000);
  });

  it('reads daily slots and cron in scheduler.timezone, across a DST change', () => {
    // 06:00 in Prague is 05:00Z in winter time and 04:00Z in summer time (from 2026-03-29).
    expect(due('daily 06:00', '2026-03-14T05:00:00Z', '2026-03-15T04:59:00Z', 'Europe/Prague')).toBe(
      'not_due',
    );
    expect(due('daily 06:00', '2026-03-14T05:00:00Z', '2026-03-15T05:00:00Z', 'Europe/Prague')).toBe('due');
    expect(due('daily 06:00', '2026-03-29T03:00:00Z', '2026-03-29T04:00:00Z', 'Europe/Prague')).toBe('due');
    expect(due('0 6 * * *', '2026-03-29T03:00:00Z', '2026-03-29T03:59:00Z', 'Europe/Prague')).toBe('not_due');
  });

  it('never schedules manual, even when it never ran', () => {
    expect(due('manual', null, '2026-03-15T12:00:00Z')).toBe('not_due');
    expect(due('manual', '2020-01-01T00:00:00Z', '2026-03-15T12:00:00Z')).toBe('not_due');
  });
});

describe('fire times', () => {
  it('finds the latest daily slot at or before a time, and the next one after it', () => {
    const schedule = timed('daily 18:00,06:30');
    expect(previousFire(schedule, at('2026-03-15T12:00:00Z'), 'UTC')).toEqual(at('2026-03-15T06:30:00Z'));
    expect(previousFire(schedule, at('2026-03-15T06:30:00Z'), 'UTC')).toEqual(at('2026-03-15T06:30:00Z'));
    expect(previousFire(schedule, at('2026-03-15T06:29:59Z'), 'UTC')).toEqual(at('2026-03-14T18:00:00Z'));
    expect(nextFire(schedule, at('2026-03-15T06:30:00Z'), 'UTC')).toEqual(at('2026-03-15T18:00:00Z'));
    expect(nextFire(schedule, at('2026-03-15T18:00:00Z'), 'UTC')).toEqual(at('2026-03-16T06:30:00Z'));
  });

  it('follows cron weekdays', () => {
    const weekdays = timed('30 2 * * 1-5');
    expect(previousFire(weekdays, at('2026-03-15T12:00:00Z'), 'UTC')).toEqual(at('2026-03-13T02:30:00Z'));
    expect(nextFire(weekdays, at('2026-03-13T02:30:00Z'), 'UTC')).toEqual(at('2026-03-16T02:30:00Z'));
  });
});

describe('the period that bounds jitter', () => {
  it('is N for every N, and the gap around now for slots', () => {
    const now = at('2026-03-15T12:00:00Z');
    expect(periodMs(parseSchedule('every 15m'), now, 'UTC')).toBe(15 * 60_000);
    expect(periodMs(parseSchedule('daily 06:00,18:00'), now, 'UTC')).toBe(12 * 3_600_000);
    expect(periodMs(parseSchedule('daily 06:00'), now, 'UTC')).toBe(24 * 3_600_000);
    // Sunday noon: from Friday 02:30 to Monday 02:30.
    expect(periodMs(parseSchedule('30 2 * * 1-5'), now, 'UTC')).toBe(3 * 24 * 3_600_000);
    expect(periodMs(parseSchedule('manual'), now, 'UTC')).toBeNull();
  });
});

import { nextFire, type TimedSchedule } from '../schedule/fire-times.js';
import type { Schedule } from '../schedule/schedule.js';

/** Alerts must not run more often than `every 5m` (08 §1.1, §9). */
export const MIN_ALERT_GAP_MINUTES = 5;

const DAY_MINUTES = 24 * 60;
const MINUTE_MS = 60_000;

/** A fixed UTC day to read a pattern's times of day from: its fires on one day are its fires on any. */
const PROBE_START = Date.UTC(2026, 0, 1);

/** The minutes of the day at which a `daily` or cron schedule fires, sorted. */
function minutesOfDay(schedule: TimedSchedule): number[] {
  if (schedule.kind === 'daily')
    return schedule.times.map((t) => Number(t.slice(0, 2)) * 60 + Number(t.slice(3, 5)));
  // The first day the pattern fires at all (within a leap-year cycle), then all its fires that day.
  const first = nextFire(schedule, new Date(PROBE_START - 1), 'UTC');
  if (!first) return [];
  const dayStart = Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), first.getUTCDate());
  const minutes: number[] = [];
  for (let fire: Date | null = first; fire && fire.getTime() < dayStart + DAY_MINUTES * MINUTE_MS; ) {
    minutes.push(Math.round((fire.getTime() - dayStart) / MINUTE_MS));
    fire = nextFire(schedule, fire, 'UTC');
  }
  return minutes;
}

/**
 * The shortest wall-clock gap, in minutes, between two consecutive fires of a schedule; null for
 * `manual` and for a pattern that never fires. A five-field cron fires at the same times
 * on every day it fires, so the gaps are those within one day plus the one across midnight, which
 * is counted as if the next day fired too (the strict reading of "can be less than 5 minutes").
 */
export function shortestGapMinutes(schedule: Schedule): number | null {
  if (schedule.kind === 'manual') return null;
  if (schedule.kind === 'every') return schedule.minutes;
  const minutes = minutesOfDay(schedule);
  if (minutes.length === 0) return null;
  let shortest = DAY_MINUTES - minutes[minutes.length - 1]! + minutes[0]!;
  for (let i = 1; i < minutes.length; i++) shortest = Math.min(shortest, minutes[i]! - minutes[i - 1]!);
  return shortest;
}

export function isTooFrequentForAlert(schedule: Schedule): boolean {
  const gap = shortestGapMinutes(schedule);
  return gap !== null && gap < MIN_ALERT_GAP_MINUTES;
}

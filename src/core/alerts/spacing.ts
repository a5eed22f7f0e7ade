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

/** The zone's offset from UTC at an instant, in minutes. */
function offsetMinutes(at: number, format: Intl.DateTimeFormat): number {
  const parts = Object.fromEntries(format.formatToParts(new Date(at)).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return Math.round((wall - Math.floor(at / 1000) * 1000) / MINUTE_MS);
}

/**
 * The shortest real gap between fires around the zone's offset changes in the coming year: a
 * clock change can bring two wall-clock times close (01:58 before a spring-forward and 03:00
 * after it are two minutes apart). Measured on croner's own fire times, which the scheduler uses.
 */
function shortestGapAcrossClockChanges(schedule: TimedSchedule, timeZone: string, now: Date): number | null {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const day = DAY_MINUTES * MINUTE_MS;
  let shortest: number | null = null;
  for (
    let at = now.getTime(), offset = offsetMinutes(at, format);
    at < now.getTime() + 400 * day;
    at += day
  ) {
    const next = offsetMinutes(at + day, format);
    if (next === offset) continue;
    offset = next;
    let previous = nextFire(schedule, new Date(at - day), timeZone);
    for (let fire = previous; fire && fire.getTime() < at + 3 * day; previous = fire) {
      fire = nextFire(schedule, fire, timeZone);
      if (!fire || !previous) break;
      const gap = (fire.getTime() - previous.getTime()) / MINUTE_MS;
      shortest = shortest === null ? gap : Math.min(shortest, gap);
    }
  }
  return shortest;
}

/**
 * The shortest gap, in minutes, between two consecutive fires of a schedule in `timeZone`; null
 * for `manual` and for a pattern that never fires. A five-field cron fires at the same wall-clock
 * times on every day it fires, so the gaps are those within one day plus the one across midnight,
 * which is counted as if the next day fired too (the strict reading of "can be less than 5
 * minutes"), and the real gaps around the zone's clock changes.
 */
export function shortestGapMinutes(schedule: Schedule, timeZone = 'UTC', now = new Date()): number | null {
  const wallClock = shortestWallClockGap(schedule);
  if (schedule.kind !== 'daily' && schedule.kind !== 'cron') return wallClock;
  const aroundClockChanges = shortestGapAcrossClockChanges(schedule, timeZone, now);
  if (wallClock === null || aroundClockChanges === null) return wallClock ?? aroundClockChanges;
  return Math.min(wallClock, aroundClockChanges);
}

function shortestWallClockGap(schedule: Schedule): number | null {
  if (schedule.kind === 'manual') return null;
  if (schedule.kind === 'every') return schedule.minutes;
  const minutes = minutesOfDay(schedule);
  if (minutes.length === 0) return null;
  let shortest = DAY_MINUTES - minutes[minutes.length - 1]! + minutes[0]!;
  for (let i = 1; i < minutes.length; i++) shortest = Math.min(shortest, minutes[i]! - minutes[i - 1]!);
  return shortest;
}

/** Whether an alert schedule can fire twice within 5 minutes (08 §9: refused with 422). */
export function isTooFrequentForAlert(schedule: Schedule, timeZone: string, now: Date): boolean {
  // The wall-clock check alone settles most schedules, without walking the clock changes.
  const wallClock = shortestWallClockGap(schedule);
  if (wallClock !== null && wallClock < MIN_ALERT_GAP_MINUTES) return true;
  const gap = shortestGapMinutes(schedule, timeZone, now);
  return gap !== null && gap < MIN_ALERT_GAP_MINUTES;
}

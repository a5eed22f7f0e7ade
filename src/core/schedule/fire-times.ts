import { Cron } from 'croner';
import type { Schedule } from './schedule.js';

/** A schedule that fires at wall-clock times in `scheduler.timezone`: `daily` slots or cron. */
export type TimedSchedule = Extract<Schedule, { kind: 'daily' | 'cron' }>;

/** A `daily` schedule is one cron pattern per slot, so both forms share croner's time-zone arithmetic. */
function patternsOf(schedule: TimedSchedule): string[] {
  if (schedule.kind === 'cron') return [schedule.expression];
  return schedule.times.map((time) => {
    const [hours, minutes] = time.split(':');
    return `${Number(minutes)} ${Number(hours)} * * *`;
  });
}

const MAX_CACHED = 1_000;
const compiled = new Map<string, Cron>();

/** Compiled patterns per time zone: the scheduler evaluates the same few schedules every tick. */
function cronOf(pattern: string, timeZone: string): Cron {
  const key = `${timeZone}\n${pattern}`;
  let cron = compiled.get(key);
  if (!cron) {
    if (compiled.size >= MAX_CACHED) compiled.clear();
    cron = new Cron(pattern, { paused: true, timezone: timeZone });
    compiled.set(key, cron);
  }
  return cron;
}

/** The latest fire time at or before `at`, or null when the schedule never fired before it. */
export function previousFire(schedule: TimedSchedule, at: Date, timeZone: string): Date | null {
  // croner counts a run earlier in the same second as the reference, so 1 ms past `at` makes a
  // fire exactly at `at` count.
  const reference = new Date(at.getTime() + 1);
  let latest: Date | null = null;
  for (const pattern of patternsOf(schedule)) {
    const [fire] = cronOf(pattern, timeZone).previousRuns(1, reference);
    if (fire && fire.getTime() <= at.getTime() && (!latest || fire > latest)) latest = fire;
  }
  return latest;
}

/** The first fire time strictly after `after`, or null when the schedule never fires again. */
export function nextFire(schedule: TimedSchedule, after: Date, timeZone: string): Date | null {
  let earliest: Date | null = null;
  for (const pattern of patternsOf(schedule)) {
    const fire = cronOf(pattern, timeZone).nextRun(after);
    if (fire && (!earliest || fire < earliest)) earliest = fire;
  }
  return earliest;
}

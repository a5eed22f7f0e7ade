import { Cron } from 'croner';

/** The schedule grammar of 08-services.md §1.1, parsed strictly. */
export type Schedule =
  | { kind: 'every'; minutes: number }
  | { kind: 'daily'; times: string[] }
  | { kind: 'cron'; expression: string }
  | { kind: 'manual' };

export class ScheduleError extends Error {
  constructor(readonly input: string) {
    super(`invalid schedule "${input}"`);
    this.name = 'ScheduleError';
  }
}

const EVERY = /^every ([0-9]{1,4})(m|h)$/;
const DAILY = /^daily ((?:[0-2][0-9]:[0-5][0-9])(?:,[0-2][0-9]:[0-5][0-9])*)$/;
const CRON_FIELDS = /^\S+ \S+ \S+ \S+ \S+$/;

export function parseSchedule(input: string): Schedule {
  const text = input.trim();
  if (text === 'manual') return { kind: 'manual' };
  const every = EVERY.exec(text);
  if (every) {
    const n = Number(every[1]);
    const minutes = every[2] === 'h' ? n * 60 : n;
    const valid = every[2] === 'h' ? n >= 1 && n <= 168 : n >= 1 && n <= 1440;
    if (!valid) throw new ScheduleError(input);
    return { kind: 'every', minutes };
  }
  const daily = DAILY.exec(text);
  if (daily) {
    const times = [...new Set(daily[1]!.split(','))].sort();
    if (times.length > 24 || times.some((t) => Number(t.slice(0, 2)) > 23)) throw new ScheduleError(input);
    return { kind: 'daily', times };
  }
  if (CRON_FIELDS.test(text)) {
    try {
      new Cron(text, { paused: true });
    } catch {
      throw new ScheduleError(input);
    }
    return { kind: 'cron', expression: text };
  }
  throw new ScheduleError(input);
}

export function isValidSchedule(input: string): boolean {
  try {
    parseSchedule(input);
    return true;
  } catch {
    return false;
  }
}

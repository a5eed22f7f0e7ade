import { DAY_SECONDS, isoDay } from './time-model.js';

/**
 * Formatting of one CSV cell per column type. NULL is the empty unquoted cell; text is quoted
 * per RFC 4180 only when it must be. Generated text is never empty, so the two cannot be confused.
 */

const NEEDS_QUOTES = /[",\r\n]/;

export function csvText(value: string | null): string {
  if (value === null) return '';
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const dayCache = new Map<number, string>();

/** Days since the epoch → `YYYY-MM-DD`; the window spans few days, so each is formatted once. */
export function csvDate(day: number | null): string {
  if (day === null) return '';
  let text = dayCache.get(day);
  if (text === undefined) {
    text = isoDay(day);
    dayCache.set(day, text);
  }
  return text;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const HOURS_MINUTES = Array.from({ length: 1440 }, (_, m) => `${pad2(Math.floor(m / 60))}:${pad2(m % 60)}`);
const SECONDS = Array.from({ length: 60 }, (_, s) => `:${pad2(s)}`);

/** Seconds since the epoch → `YYYY-MM-DD HH:MM:SS`, the form DuckDB reads as TIMESTAMP. */
export function csvTimestamp(second: number | null): string {
  if (second === null) return '';
  const day = Math.floor(second / DAY_SECONDS);
  const ofDay = second - day * DAY_SECONDS;
  return `${csvDate(day)} ${HOURS_MINUTES[Math.floor(ofDay / 60)]}${SECONDS[ofDay % 60]}`;
}

/** Integer cents → a DECIMAL(12,2) literal; money never passes through a binary fraction. */
export function csvMoney(cents: number | null): string {
  if (cents === null) return '';
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100);
  const rest = abs - whole * 100;
  return `${cents < 0 ? '-' : ''}${whole}.${pad2(rest)}`;
}

export function csvNumber(value: number | null): string {
  return value === null ? '' : String(value);
}

export function csvBool(value: boolean): string {
  return value ? 'true' : 'false';
}

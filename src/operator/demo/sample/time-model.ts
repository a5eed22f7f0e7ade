import type { Rng } from './prng.js';
import { AliasTable } from './weighted.js';

/**
 * The calendar of 07 §2.3. All times are whole seconds since the Unix epoch (UTC, written as
 * TIMESTAMP without zone) and all dates are whole days since the epoch: integer arithmetic keeps
 * the output identical everywhere and is cheap to format.
 */

export const DAY_SECONDS = 86_400;
export const HOUR_SECONDS = 3_600;

/** Jan…Dec. */
const MONTH_SEASONALITY = [0.7, 0.75, 0.85, 0.9, 0.95, 1.0, 0.9, 0.85, 1.0, 1.1, 1.3, 1.5];
/** Indexed by `Date#getUTCDay()`: Sun, Mon…Sat (the spec lists Mon…Sun: 1.0 1.0 1.0 1.05 1.15 0.8 0.6). */
const WEEKDAY_FACTOR = [0.6, 1.0, 1.0, 1.0, 1.05, 1.15, 0.8];
/** 00:00…23:00: quiet nights, a peak at 10:00 and a long afternoon and evening. */
const HOUR_WEIGHTS = [
  0.15, 0.08, 0.05, 0.04, 0.05, 0.1, 0.3, 0.6, 1.1, 1.6, 2.0, 1.8, 1.5, 1.45, 1.4, 1.3, 1.25, 1.2, 1.2, 1.25,
  1.15, 0.9, 0.6, 0.3,
];
const HOUR_TABLE = new AliasTable(HOUR_WEIGHTS);

/** `YYYY-MM-DD` → days since the epoch; throws on anything that is not a real calendar date. */
export function parseIsoDay(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (Number.isNaN(ms) || isoDay(ms / 86_400_000) !== text) throw new Error(`not a calendar date: ${text}`);
  return ms / 86_400_000;
}

export function isoDay(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

export class TimeModel {
  /** First day of the window (inclusive). */
  readonly startDay: number;
  /** The end date (exclusive): nothing happens on or after it. */
  readonly endDay: number;
  private readonly endSecond: number;
  private readonly dayTable: AliasTable;

  constructor(endDay: number, months: number) {
    this.endDay = endDay;
    this.startDay = endDay - months * 30;
    this.endSecond = endDay * DAY_SECONDS;
    const days = this.endDay - this.startDay;
    const weights = new Float64Array(days);
    for (let i = 0; i < days; i++) {
      const date = new Date((this.startDay + i) * 86_400_000);
      const growth = 1 + (0.5 * i) / Math.max(1, days - 1);
      weights[i] = growth * MONTH_SEASONALITY[date.getUTCMonth()]! * WEEKDAY_FACTOR[date.getUTCDay()]!;
    }
    this.dayTable = new AliasTable(weights);
  }

  /** A day in the window, weighted by growth × seasonality × weekday. */
  pickDay(rng: Rng): number {
    return this.startDay + this.dayTable.pick(rng);
  }

  /** A moment in the window: a weighted day, a weighted hour, a uniform second within the hour. */
  pickSecond(rng: Rng): number {
    return this.pickDay(rng) * DAY_SECONDS + this.pickSecondOfDay(rng);
  }

  pickSecondOfDay(rng: Rng): number {
    return HOUR_TABLE.pick(rng) * HOUR_SECONDS + rng.int(0, HOUR_SECONDS - 1);
  }

  /**
   * A follow-up `delay` seconds after `parent`, never before it and never past the end of the
   * window (the data is a snapshot taken at the end date).
   */
  followUp(parent: number, delay: number): number {
    return Math.max(parent, Math.min(parent + delay, this.endSecond - 1));
  }
}

/** Whole days since the epoch of a second. */
export function dayOf(second: number): number {
  return Math.floor(second / DAY_SECONDS);
}

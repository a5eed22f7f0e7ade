import type { Rng } from './prng.js';
import type { TimeModel } from './time-model.js';
import { cumulative, pickCumulative, upperBound } from './weighted.js';

/** Spread of the days before the window on which pre-existing customers and products appeared. */
const HISTORY_DAYS = 730;

/**
 * Days on which `count` entities (customers registering, products being listed) appear, sorted so
 * that sequence numbers follow time. A `preexisting` share predates the window and the first entity
 * always does, so every day of the window has at least one entity to refer to.
 */
export function appearanceDays(rng: Rng, time: TimeModel, count: number, preexisting: number): Float64Array {
  const days = new Float64Array(count);
  const before = Math.max(1, Math.round(count * preexisting));
  for (let i = 0; i < count; i++) {
    days[i] = i < before ? time.startDay - rng.int(1, HISTORY_DAYS) : time.pickDay(rng);
  }
  return days.sort();
}

/**
 * Entities that exist from a given day on, each with an activity weight: a draw for a day returns
 * only entities that already existed then (an order never predates its customer).
 */
export class DatedPool {
  private readonly sums: Float64Array;

  constructor(
    /** Ascending. */
    readonly days: Float64Array,
    weights: Float64Array,
  ) {
    if (weights.length !== days.length) throw new Error('a dated pool needs one weight per entity');
    this.sums = cumulative(weights);
  }

  get count(): number {
    return this.days.length;
  }

  /** How many entities exist on `day`. */
  existingOn(day: number): number {
    return upperBound(this.days, day);
  }

  /** The index of an entity that exists on `day`, weighted by activity. */
  pick(rng: Rng, day: number): number {
    return pickCumulative(rng, this.sums, this.existingOn(day));
  }
}

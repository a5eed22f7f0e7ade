import type { Rng } from './prng.js';

/**
 * Weighted draws. Fixed distributions use Vose's alias method (one random number and two array
 * reads per draw, whatever their size); draws restricted to a prefix that varies per call use a
 * binary search over running sums. Arrays are Float64Array throughout so the hot loops stay
 * monomorphic.
 */

/** Index of the first element greater than `value` in the ascending prefix `[0, end)`. */
export function upperBound(sorted: Float64Array, value: number, end = sorted.length): number {
  let lo = 0;
  let hi = end;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function checkWeights(weights: ArrayLike<number>): void {
  if (weights.length === 0) throw new Error('a weighted draw needs at least one weight');
  for (let i = 0; i < weights.length; i++) {
    if (!(weights[i]! >= 0)) throw new Error('weights must be non-negative numbers');
  }
}

/** Running sums, searched by `pickCumulative`. */
export function cumulative(weights: ArrayLike<number>): Float64Array {
  checkWeights(weights);
  const sums = new Float64Array(weights.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    total += weights[i]!;
    sums[i] = total;
  }
  return sums;
}

/** Draws an index in `[0, end)` with probability proportional to its weight. */
export function pickCumulative(rng: Rng, sums: Float64Array, end = sums.length): number {
  if (end === 0) throw new Error('cannot pick from an empty range');
  const index = upperBound(sums, rng.float() * sums[end - 1]!, end);
  // Guards the u·total rounding up to exactly the last sum.
  return Math.min(index, end - 1);
}

/** Vose's alias table over indices `[0, weights.length)`. */
export class AliasTable {
  private readonly keep: Float64Array;
  private readonly alias: Int32Array;

  constructor(weights: ArrayLike<number>) {
    checkWeights(weights);
    const n = weights.length;
    let total = 0;
    for (let i = 0; i < n; i++) total += weights[i]!;
    if (!(total > 0)) throw new Error('weights must not all be zero');
    const scaled = Float64Array.from(weights, (weight) => (weight * n) / total);
    this.keep = new Float64Array(n);
    this.alias = new Int32Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) (scaled[i]! < 1 ? small : large).push(i);
    while (small.length > 0 && large.length > 0) {
      const less = small.pop()!;
      const more = large.pop()!;
      this.keep[less] = scaled[less]!;
      this.alias[less] = more;
      scaled[more] = scaled[more]! + scaled[less]! - 1;
      (scaled[more]! < 1 ? small : large).push(more);
    }
    // What is left holds (up to rounding) exactly its own share.
    for (const index of [...small, ...large]) this.keep[index] = 1;
  }

  pick(rng: Rng): number {
    const u = rng.float() * this.keep.length;
    const index = Math.floor(u);
    return u - index < this.keep[index]! ? index : this.alias[index]!;
  }
}

/** A fixed categorical distribution over values; weights need not sum to 1. */
export class WeightedChoice<T> {
  private readonly table: AliasTable;

  constructor(
    readonly values: readonly T[],
    weights: readonly number[],
  ) {
    if (values.length !== weights.length) throw new Error('a weighted choice needs one weight per value');
    this.table = new AliasTable(weights);
  }

  /** From a literal such as `{ b2c: 0.6, b2b_small: 0.25 }`; key order is kept, so draws are stable. */
  static of<K extends string>(weights: Readonly<Record<K, number>>): WeightedChoice<K> {
    const entries = Object.entries(weights) as [K, number][];
    return new WeightedChoice(
      entries.map(([value]) => value),
      entries.map(([, weight]) => weight),
    );
  }

  pick(rng: Rng): T {
    return this.values[this.table.pick(rng)]!;
  }
}

/**
 * Heavy-tailed activity weights (Pareto with shape `alpha`, capped at `cap`× the minimum), so a
 * few customers or products account for much of the activity, as in real shops.
 */
export function paretoWeights(rng: Rng, count: number, alpha = 1.16, cap = 50): Float64Array {
  const weights = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    weights[i] = Math.min(cap, (1 - rng.float()) ** (-1 / alpha));
  }
  return weights;
}

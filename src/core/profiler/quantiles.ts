/**
 * Exact quantiles read off a sorted column, with `quantile_cont`'s interpolation: fraction q of
 * n sorted values lies at 0-based position h = (n − 1)·q, between the values at floor(h) and ceil(h).
 */

const FRACTIONS = { p5: 0.05, p25: 0.25, median: 0.5, p75: 0.75, p95: 0.95 } as const;
export type Quantiles = Record<keyof typeof FRACTIONS, number | null>;

const position = (n: number, q: number) => (n - 1) * q;

/** The 1-based ranks (as `row_number()` counts them) whose values the quantiles need. */
export function quantileRanks(n: number): number[] {
  if (n === 0) return [];
  const ranks = new Set<number>();
  for (const q of Object.values(FRACTIONS)) {
    ranks.add(Math.floor(position(n, q)) + 1);
    ranks.add(Math.ceil(position(n, q)) + 1);
  }
  return [...ranks].sort((a, b) => a - b);
}

/** The quantiles of n values, from the values found at `quantileRanks(n)` (in rank order). */
export function quantileValues(n: number, ranks: number[], values: number[]): Quantiles {
  const at = new Map(ranks.map((rank, i) => [rank, values[i]]));
  const quantile = (q: number) => {
    const h = position(n, q);
    const lo = at.get(Math.floor(h) + 1);
    const hi = at.get(Math.ceil(h) + 1);
    return lo === undefined || hi === undefined ? null : lo + (hi - lo) * (h - Math.floor(h));
  };
  return {
    p5: quantile(FRACTIONS.p5),
    p25: quantile(FRACTIONS.p25),
    median: quantile(FRACTIONS.median),
    p75: quantile(FRACTIONS.p75),
    p95: quantile(FRACTIONS.p95),
  };
}

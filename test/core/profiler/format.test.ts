import { describe, expect, it } from 'vitest';
import { compactNumber, pct, round2 } from '../../../src/core/profiler/format.js';

describe('output formatting', () => {
  it('rounds to 2 decimals and turns NaN, ±Infinity and missing values into null', () => {
    expect(
      [1.005, 2.345, -0.001, 10n, '3.14159', Number.NaN, Number.POSITIVE_INFINITY, null].map(round2),
    ).toEqual([1, 2.35, 0, 10, 3.14, null, null, null]);
    expect(Object.is(round2(-0.001), 0)).toBe(true);
  });

  it('gives percentages of a whole, 0 of nothing', () => {
    expect([pct(1, 3), pct(2, 3), pct(0, 0), pct(5, 5)]).toEqual([33.33, 66.67, 0, 100]);
  });

  it('labels numbers compactly', () => {
    expect(
      [0, 12.345, -999.5, 1000, 1234, 999_960, 3_400_000, -5_600_000_000, 1.23e12].map(compactNumber),
    ).toEqual(['0', '12.35', '-999.5', '1K', '1.2K', '1M', '3.4M', '-5.6B', '1230B']);
  });
});

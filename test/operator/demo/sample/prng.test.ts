import { describe, expect, it } from 'vitest';
import { createRng, SplitMix64 } from '../../../../src/operator/demo/sample/prng.js';
import {
  AliasTable,
  cumulative,
  paretoWeights,
  pickCumulative,
  upperBound,
  WeightedChoice,
} from '../../../../src/operator/demo/sample/weighted.js';

const draws = 100_000;

function frequencies(n: number, draw: () => number): number[] {
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < draws; i++) counts[draw()]! += 1;
  return counts.map((count) => count / draws);
}

describe('SplitMix64', () => {
  it('matches the reference outputs for seed 0', () => {
    const mix = new SplitMix64(0n);
    expect(mix.next()).toBe(0xe220a8397b1dcdafn);
    expect(mix.next()).toBe(0x6e789e6aa1b965f4n);
  });
});

describe('createRng', () => {
  it('gives the same first outputs for a seed and stream, release after release', () => {
    const rng = createRng(42, 'test');
    expect([rng.nextUint32(), rng.nextUint32(), rng.nextUint32(), rng.nextUint32()]).toEqual([
      3245535892, 1908770546, 828360689, 4014736530,
    ]);
  });

  it('gives independent sequences per seed and per stream', () => {
    const first = (seed: number, stream: string) => createRng(seed, stream).nextUint32();
    expect(first(42, 'customers')).toBe(first(42, 'customers'));
    expect(first(42, 'customers')).not.toBe(first(43, 'customers'));
    expect(first(42, 'customers')).not.toBe(first(42, 'orders'));
  });

  it('keeps uniform draws in range and roughly flat', () => {
    const rng = createRng(7, 'uniform');
    const values = Array.from({ length: 10_000 }, () => rng.float());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const counts = frequencies(6, () => rng.int(0, 5));
    for (const share of counts) expect(share).toBeCloseTo(1 / 6, 1);
    const dice = new Set(Array.from({ length: 1000 }, () => rng.int(1, 6)));
    expect([...dice].sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('shuffles into a permutation', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = createRng(1, 'shuffle').shuffle([...items]);
    expect(shuffled).not.toEqual(items);
    expect([...shuffled].sort((a, b) => a - b)).toEqual(items);
  });
});

describe('weighted draws', () => {
  it('respects the weights of a choice', () => {
    const rng = createRng(42, 'weighted');
    const choice = WeightedChoice.of({ a: 0.6, b: 0.25, c: 0.15 });
    const counts = new Map<string, number>();
    for (let i = 0; i < draws; i++) {
      const value = choice.pick(rng);
      counts.set(value, (counts.get(value) ?? 0) + 1);
    }
    expect((counts.get('a') ?? 0) / draws).toBeCloseTo(0.6, 2);
    expect((counts.get('b') ?? 0) / draws).toBeCloseTo(0.25, 2);
    expect((counts.get('c') ?? 0) / draws).toBeCloseTo(0.15, 2);
  });

  it('never draws a zero weight from an alias table', () => {
    const rng = createRng(42, 'alias');
    const table = new AliasTable([3, 0, 1, 0, 4]);
    const shares = frequencies(5, () => table.pick(rng));
    expect(shares[1]).toBe(0);
    expect(shares[3]).toBe(0);
    expect(shares[0]).toBeCloseTo(3 / 8, 2);
    expect(shares[4]).toBeCloseTo(4 / 8, 2);
  });

  it('draws from a prefix of running sums only', () => {
    const rng = createRng(42, 'prefix');
    const sums = cumulative([1, 1, 2, 100]);
    const shares = frequencies(4, () => pickCumulative(rng, sums, 3));
    expect(shares[3]).toBe(0);
    expect(shares[2]).toBeCloseTo(0.5, 2);
    expect(upperBound(new Float64Array([1, 2, 2, 3]), 2)).toBe(3);
  });

  it('rejects bad weights', () => {
    expect(() => new WeightedChoice(['a'], [-1])).toThrow(/non-negative/);
    expect(() => new AliasTable([0, 0])).toThrow(/zero/);
    expect(() => new WeightedChoice(['a', 'b'], [1])).toThrow(/one weight per value/);
  });

  it('makes heavy-tailed, capped activity weights', () => {
    const weights = paretoWeights(createRng(42, 'pareto'), 10_000);
    const sorted = [...weights].sort((a, b) => b - a);
    const total = sorted.reduce((sum, w) => sum + w, 0);
    const top = sorted.slice(0, 2_000).reduce((sum, w) => sum + w, 0);
    expect(Math.max(...sorted)).toBeLessThanOrEqual(50);
    expect(Math.min(...sorted)).toBeGreaterThanOrEqual(1);
    expect(top / total).toBeGreaterThan(0.5);
  });
});

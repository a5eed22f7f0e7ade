import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dateGranularity, numericBins, numericHistogram } from '../../../src/core/profiler/histogram.js';
import { columnOf, createFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await createFixtures();
});
afterAll(async () => {
  await fx.close();
});

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('numeric histograms', () => {
  it('spreads equal-width bins from min to max and closes the last bin', async () => {
    // 0..99 plus NULLs: 15 bins of width 6.6; the max (99) must land in the last bin.
    const profile = await fx.profile(
      'SELECT CASE WHEN range % 10 = 9 THEN NULL ELSE range END AS x FROM range(100)',
    );
    const histogram = columnOf(profile, 'x', 'NUMERIC').histogram;
    expect(histogram?.edges).toHaveLength(16);
    expect(histogram?.edges[0]).toBe(0);
    expect(histogram?.edges[15]).toBe(98);
    expect(histogram?.labels).toHaveLength(15);
    expect(histogram?.counts).toHaveLength(15);
    expect(sum(histogram?.counts ?? [])).toBe(90);
    expect(histogram?.counts.at(-1)).toBeGreaterThan(0);
  });

  it('puts the max in the last bin even when it sits alone there', async () => {
    const profile = await fx.profile('SELECT * FROM (VALUES (1), (1), (2), (100)) v(x)', {
      options: { histogram_bins: 4 },
    });
    expect(columnOf(profile, 'x', 'NUMERIC').histogram).toEqual({
      edges: [1, 25.75, 50.5, 75.25, 100],
      labels: ['1–25.75', '25.75–50.5', '50.5–75.25', '75.25–100'],
      counts: [3, 0, 0, 1],
    });
  });

  it('counts every non-null finite value exactly once', async () => {
    const profile = await fx.profile(
      `SELECT CASE WHEN range % 50 = 0 THEN 'nan'::DOUBLE WHEN range % 50 = 1 THEN NULL ELSE sin(range) * 1000 END AS x
       FROM range(5000)`,
    );
    expect(sum(columnOf(profile, 'x', 'NUMERIC').histogram?.counts ?? [])).toBe(4800);
  });

  it('bins between the unrounded min and max', async () => {
    // Rounded first, min and max would both be 0.01 and there would be no histogram at all.
    const profile = await fx.profile('SELECT * FROM (VALUES (0.004::DOUBLE), (0.006)) v(x)', {
      options: { histogram_bins: 2 },
    });
    expect(columnOf(profile, 'x', 'NUMERIC').histogram).toEqual({
      edges: [0, 0.01, 0.01],
      labels: ['0–0.01', '0.01–0.01'],
      counts: [1, 1],
    });
  });

  it('is absent when min equals max', async () => {
    const profile = await fx.profile('SELECT 7 AS x FROM range(3)');
    expect(columnOf(profile, 'x', 'NUMERIC').histogram).toBeUndefined();
  });

  it('labels bins with compact numbers', () => {
    const bins = numericBins(-1500, 4_500_000_000, 3);
    expect(bins && numericHistogram(bins, new Map([[2, 5]]))).toEqual({
      edges: [-1500, 1499999000, 2999999500, 4500000000],
      labels: ['-1.5K–1.5B', '1.5B–3B', '3B–4.5B'],
      counts: [0, 0, 5],
    });
  });
});

describe('date histogram granularity', () => {
  it('is day up to 62 days, month up to three years (1096 days), year beyond', () => {
    expect([0, 62, 63, 1096, 1097].map(dateGranularity)).toEqual(['day', 'day', 'month', 'month', 'year']);
  });
});

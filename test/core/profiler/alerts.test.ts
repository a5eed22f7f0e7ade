import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await createFixtures();
});
afterAll(async () => {
  await fx.close();
});

/** 100 rows; each column is built to raise exactly the alerts named after it. */
const SELECT = `SELECT
  7 AS constant_col,
  range AS unique_col,
  CASE WHEN range < 40 THEN NULL ELSE range % 3 END AS high_missing_col,
  CASE WHEN range < 10 THEN NULL ELSE range % 3 END AS missing_col,
  CASE WHEN range < 5 THEN NULL ELSE range % 3 END AS quiet_col,
  CASE WHEN range < 60 THEN 0 ELSE range % 3 END AS zeros_col,
  CASE WHEN range < 70 THEN 'top' ELSE 'other' || (range % 5) END AS imbalance_col,
  'v' || (range % 60) AS high_cardinality_col
FROM range(100)`;

describe('alerts', () => {
  it('raises every code with its message, in column order', async () => {
    const profile = await fx.profile(SELECT);
    expect(profile.alerts).toEqual([
      { column: 'constant_col', type: 'constant', message: 'constant_col has a single value' },
      { column: 'unique_col', type: 'unique', message: 'unique_col has all unique values' },
      {
        column: 'high_missing_col',
        type: 'high_missing',
        message: 'high_missing_col has 40% missing values',
      },
      { column: 'missing_col', type: 'missing', message: 'missing_col has 10% missing values' },
      { column: 'zeros_col', type: 'zeros', message: 'zeros_col has 74% zeros' },
      {
        column: 'imbalance_col',
        type: 'imbalance',
        message: 'imbalance_col is imbalanced: "top" is 70% of rows',
      },
      {
        column: 'high_cardinality_col',
        type: 'high_cardinality',
        message: 'high_cardinality_col has high cardinality: 60 distinct values',
      },
    ]);
    expect(Object.fromEntries(profile.columns.map((c) => [c.name, c.alerts]))).toEqual({
      constant_col: ['constant'],
      unique_col: ['unique'],
      high_missing_col: ['high_missing'],
      missing_col: ['missing'],
      quiet_col: [],
      zeros_col: ['zeros'],
      imbalance_col: ['imbalance'],
      high_cardinality_col: ['high_cardinality'],
    });
  });

  it('keeps the specified order within one column', async () => {
    const profile = await fx.profile("SELECT CASE WHEN range < 8 THEN NULL ELSE 'x' END AS c FROM range(10)");
    expect(profile.alerts.map((a) => a.type)).toEqual(['constant', 'high_missing']);
    expect(profile.alerts[1]?.message).toBe('c has 80% missing values');
  });

  it('reads its thresholds from the options', async () => {
    const profile = await fx.profile(SELECT, {
      options: {
        alert_high_missing_pct: 50,
        alert_missing_pct: 20,
        alert_zeros_pct: 80,
        alert_imbalance_pct: 75,
        alert_high_cardinality: 60,
      },
    });
    expect(profile.alerts.map((a) => `${a.column}:${a.type}`)).toEqual([
      'constant_col:constant',
      'unique_col:unique',
      'high_missing_col:missing',
    ]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDuck, queryOne, toNumber } from '../../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../../src/core/duckdb/sql.js';
import { columnOf, createFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await createFixtures();
});
afterAll(async () => {
  await fx.close();
});

const round2 = (value: unknown) => Math.round((toNumber(value) ?? Number.NaN) * 100) / 100;

describe('NUMERIC columns', () => {
  it('match DuckDB’s own exact statistics', async () => {
    const select = 'SELECT (hash(range) % 1000)::INTEGER - 200 AS x FROM range(997)';
    const file = await fx.parquet(select);
    const profile = await fx.profile(select);
    const duck = await openDuck();
    const expected = (await queryOne(
      duck.conn,
      `SELECT min(x) AS min, max(x) AS max, avg(x) AS mean, stddev_samp(x) AS sd, count(DISTINCT x) AS d,
         quantile_cont(x, [0.05, 0.25, 0.5, 0.75, 0.95]) AS q, count_if(x = 0) AS zeros, count_if(x < 0) AS neg
       FROM read_parquet(${quoteLiteral(file)})`,
    ))!;
    duck.close();
    const q = (expected.q as number[]).map(round2);
    const x = columnOf(profile, 'x', 'NUMERIC');
    expect(x).toMatchObject({
      type: 'INTEGER',
      min: round2(expected.min),
      max: round2(expected.max),
      mean: round2(expected.mean),
      stddev: round2(expected.sd),
      unique_count: toNumber(expected.d),
      p5: q[0],
      p25: q[1],
      median: q[2],
      p75: q[3],
      p95: q[4],
      zeros: toNumber(expected.zeros),
      negative: toNumber(expected.neg),
      negative_pct: round2(((toNumber(expected.neg) ?? 0) / 997) * 100),
    });
  });

  // Parquet has no 128-bit integer: DuckDB stores HUGEINT as DOUBLE, and wide integers arrive as DECIMAL(38,0).
  it('profiles DECIMAL and wide integers as NUMERIC, rendering sample values in their own type', async () => {
    const profile = await fx.profile(
      `SELECT (range * 1.25)::DECIMAL(18, 2) AS d, (range::HUGEINT * CAST('1000000000000000000000' AS HUGEINT))::DECIMAL(38, 0) AS h,
         range::UBIGINT AS u FROM range(5)`,
    );
    const d = columnOf(profile, 'd', 'NUMERIC');
    expect(d).toMatchObject({ type: 'DECIMAL(18,2)', min: 0, max: 5, mean: 2.5, median: 2.5, zeros: 1 });
    expect(d.sample_values).toEqual(['0.00', '1.25', '2.50', '3.75', '5.00']);
    const h = columnOf(profile, 'h', 'NUMERIC');
    expect(h).toMatchObject({ type: 'DECIMAL(38,0)', min: 0, max: 4e21, unique_count: 5 });
    expect(h.sample_values[4]).toBe('4000000000000000000000');
    expect(columnOf(profile, 'u', 'NUMERIC').type).toBe('UBIGINT');
    expect(profile.variable_types).toEqual({ NUMERIC: 3 });
  });

  it('counts NaN and ±Infinity as present values but keeps them out of the statistics', async () => {
    const profile = await fx.profile(
      `SELECT * FROM (VALUES (1.0::DOUBLE), (2.0), ('nan'), ('inf'), ('-inf'), (NULL), (3.0), (3.0)) v(x)`,
    );
    const x = columnOf(profile, 'x', 'NUMERIC');
    expect(x).toMatchObject({
      null_count: 1,
      completeness_pct: 87.5,
      unique_count: 6,
      min: 1,
      max: 3,
      mean: 2.25,
      median: 2.5,
      zeros: 0,
      negative: 0,
    });
    expect(x.sample_values).toEqual(['1.0', '2.0', '3.0']);
    expect(x.histogram?.counts.reduce((a, b) => a + b, 0)).toBe(4);
    expect(JSON.stringify(profile)).not.toMatch(/NaN|Infinity/);
  });

  it('gives null statistics when no value is finite', async () => {
    const profile = await fx.profile(`SELECT * FROM (VALUES ('nan'::DOUBLE), ('inf'), (NULL)) v(x)`);
    const x = columnOf(profile, 'x', 'NUMERIC');
    expect(x).toMatchObject({
      unique_count: 2,
      min: null,
      max: null,
      mean: null,
      median: null,
      stddev: null,
    });
    expect(x.sample_values).toEqual([]);
    expect(x.histogram).toBeUndefined();
  });

  it('counts zeros and negatives as shares of all profiled rows', async () => {
    const profile = await fx.profile(
      'SELECT CASE WHEN range < 4 THEN 0 WHEN range < 6 THEN -range WHEN range < 8 THEN NULL ELSE range END AS x FROM range(10)',
    );
    expect(columnOf(profile, 'x', 'NUMERIC')).toMatchObject({
      zeros: 4,
      zeros_pct: 40,
      negative: 2,
      negative_pct: 20,
    });
  });

  it('rounds for output only: stddev and mean of one value', async () => {
    const profile = await fx.profile('SELECT 1.0 / 3 AS x');
    expect(columnOf(profile, 'x', 'NUMERIC')).toMatchObject({
      min: 0.33,
      max: 0.33,
      mean: 0.33,
      stddev: null,
    });
  });
});

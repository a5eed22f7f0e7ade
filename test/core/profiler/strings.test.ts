import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnOf, createFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await createFixtures();
});
afterAll(async () => {
  await fx.close();
});

describe('STRING columns', () => {
  it('profiles a categorical column with top values by count, ties by value', async () => {
    // 4 × 'b', 4 × 'a', 2 × 'cc', 1 × 'ddd', 1 NULL
    const profile = await fx.profile(
      `SELECT * FROM (VALUES ('b'), ('a'), ('b'), ('cc'), ('a'), ('b'), ('a'), ('ddd'), ('b'), ('cc'), ('a'), (NULL)) v(s)`,
    );
    const s = columnOf(profile, 's', 'STRING');
    expect(s).toMatchObject({
      type: 'VARCHAR',
      null_count: 1,
      unique_count: 4,
      unique_pct: 36.36,
      min_length: 1,
      max_length: 3,
      avg_length: 1.36,
      is_categorical: true,
      sample_values: ['a', 'b', 'cc', 'ddd'],
    });
    expect(s.top_values).toEqual([
      { value: 'a', count: 4, pct: 33.33 },
      { value: 'b', count: 4, pct: 33.33 },
      { value: 'cc', count: 2, pct: 16.67 },
      { value: 'ddd', count: 1, pct: 8.33 },
    ]);
  });

  it('keeps only `top_values_limit` top values and `sample_values_limit` samples', async () => {
    const profile = await fx.profile(`SELECT 'v' || (range % 7) AS s FROM range(70)`, {
      options: { top_values_limit: 2, sample_values_limit: 3 },
    });
    const s = columnOf(profile, 's', 'STRING');
    expect(s.top_values?.map((t) => t.value)).toEqual(['v0', 'v1']);
    expect(s.sample_values).toEqual(['v0', 'v1', 'v2']);
  });

  it('treats more distinct values than `max_categorical_distinct` as high cardinality without top values', async () => {
    const profile = await fx.profile(`SELECT 'id-' || lpad(range::VARCHAR, 3, '0') AS s FROM range(120)`);
    const s = columnOf(profile, 's', 'STRING');
    expect(s).toMatchObject({ unique_count: 120, unique_pct: 100, is_categorical: false });
    expect(s.top_values).toBeUndefined();
    expect(s.sample_values).toEqual(['id-000', 'id-001', 'id-002', 'id-003', 'id-004']);
  });

  it('profiles LIST and STRUCT columns through their text', async () => {
    const profile = await fx.profile(
      `SELECT [range, range + 1] AS l, {'a': range % 2, 'b': 'x'} AS st FROM range(4)`,
    );
    const l = columnOf(profile, 'l', 'STRING');
    expect(l).toMatchObject({
      type: 'BIGINT[]',
      unique_count: 4,
      min_length: 6,
      max_length: 6,
      is_categorical: true,
    });
    expect(l.sample_values).toEqual(['[0, 1]', '[1, 2]', '[2, 3]', '[3, 4]']);
    const st = columnOf(profile, 'st', 'STRING');
    expect(st.type).toBe('STRUCT(a BIGINT, b VARCHAR)');
    expect(st.top_values).toEqual([
      { value: "{'a': 0, 'b': x}", count: 2, pct: 50 },
      { value: "{'a': 1, 'b': x}", count: 2, pct: 50 },
    ]);
    expect(profile.sample_rows[0]).toEqual({ l: '[0, 1]', st: "{'a': 0, 'b': x}" });
  });
});

import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProfileSchema } from '../../../src/contract/index.js';
import { PROFILER_VERSION, profileTable } from '../../../src/core/profiler/index.js';
import { checkedProfile, columnOf, createFixtures, type Fixtures, input, options } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await createFixtures();
});
afterAll(async () => {
  await fx.close();
});

describe('table-level fields', () => {
  it('describes the table, its columns and its first rows', async () => {
    const profile = await fx.profile(
      `SELECT range AS id, CASE WHEN range % 2 = 0 THEN 'n' || range END AS name, range * 2.5 AS amount FROM range(4)`,
      { input: { primaryKey: ['id'] }, options: { sample_rows_limit: 2 } },
    );
    expect(profile).toMatchObject({
      profiler_version: PROFILER_VERSION,
      table_id: 't',
      description: 'a test table',
      sync_strategy: 'full_refresh',
      primary_key: ['id'],
      row_count: 4,
      profiled_rows: 4,
      sampled: false,
      column_count: 3,
      size_bytes: 3 * 1024 * 1024,
      file_size_mb: 3,
      avg_completeness: 83.33,
      missing_cells: 2,
      missing_cells_pct: 16.67,
      duplicate_rows: 0,
      variable_types: { NUMERIC: 2, STRING: 1 },
      date_range: null,
      last_sync: '2026-01-02T03:04:05.000Z',
      source_hash: 'abc123',
      related_tables: [],
      used_by_metrics: [],
    });
    expect(profile.columns.map((c) => [c.name, c.is_primary_key])).toEqual([
      ['id', true],
      ['name', false],
      ['amount', false],
    ]);
    expect(profile.sample_rows).toEqual([
      { id: '0', name: 'n0', amount: '0.0' },
      { id: '1', name: null, amount: '2.5' },
    ]);
  });

  it('profiles an empty table without errors', async () => {
    const profile = await fx.profile(
      `SELECT * FROM (SELECT 1 AS id, 'x' AS s, DATE '2020-01-01' AS d, true AS b, 1.5 AS n) WHERE false`,
      { input: { primaryKey: ['id'] } },
    );
    expect(profile).toMatchObject({
      row_count: 0,
      profiled_rows: 0,
      sampled: false,
      column_count: 5,
      avg_completeness: 0,
      missing_cells: 0,
      missing_cells_pct: 0,
      duplicate_rows: 0,
      date_range: null,
      alerts: [],
      sample_rows: [],
    });
    expect(columnOf(profile, 'id', 'NUMERIC')).toMatchObject({
      completeness_pct: 0,
      unique_count: 0,
      unique_pct: 0,
      min: null,
      median: null,
      zeros_pct: 0,
      sample_values: [],
    });
    expect(columnOf(profile, 's', 'STRING')).toMatchObject({
      min_length: null,
      avg_length: null,
      top_values: [],
    });
    expect(columnOf(profile, 'd', 'DATE')).toMatchObject({ earliest: null, span_days: null });
    expect(columnOf(profile, 'b', 'BOOLEAN')).toMatchObject({ true_count: 0, true_pct: 0 });
    expect(profile.columns.some((c) => 'histogram' in c)).toBe(false);
  });

  it('profiles an all-null column and a constant column', async () => {
    const profile = await fx.profile('SELECT NULL::DOUBLE AS nothing, 42 AS answer FROM range(6)');
    expect(columnOf(profile, 'nothing', 'NUMERIC')).toMatchObject({
      null_count: 6,
      completeness_pct: 0,
      unique_count: 0,
      min: null,
      max: null,
      alerts: ['high_missing'],
    });
    const answer = columnOf(profile, 'answer', 'NUMERIC');
    expect(answer).toMatchObject({ unique_count: 1, min: 42, max: 42, stddev: 0, alerts: ['constant'] });
    expect(answer.histogram).toBeUndefined();
    expect(profile).toMatchObject({ missing_cells: 6, missing_cells_pct: 50, avg_completeness: 50 });
  });

  it('reads every shard of a multi-file table, matching columns by name', async () => {
    const first = await fx.parquet(`SELECT range AS id, 'a' AS s FROM range(3)`);
    const second = await fx.parquet(`SELECT range * 1.5 AS extra, 'b' AS s, range + 3 AS id FROM range(2)`);
    const profile = await checkedProfile(input([first, second], { primaryKey: ['id'] }), options());
    expect(profile).toMatchObject({ row_count: 5, profiled_rows: 5, column_count: 3, duplicate_rows: 0 });
    expect(profile.columns.map((c) => c.name)).toEqual(['id', 's', 'extra']);
    expect(columnOf(profile, 'extra', 'NUMERIC')).toMatchObject({ null_count: 3, max: 1.5 });
    expect(columnOf(profile, 's', 'STRING').top_values).toEqual([
      { value: 'a', count: 3, pct: 60 },
      { value: 'b', count: 2, pct: 40 },
    ]);
  });

  it('counts duplicate rows by the primary key, single or composite', async () => {
    const select = `SELECT * FROM (VALUES (1, 1), (1, 1), (1, 2), (NULL, 1), (2, NULL)) v(a, b)`;
    const single = await fx.profile(select, { input: { primaryKey: ['a'] } });
    expect(single.duplicate_rows).toBe(3);
    const composite = await fx.profile(select, { input: { primaryKey: ['a', 'b'] } });
    expect(composite.duplicate_rows).toBe(3);
    expect(composite.columns.every((c) => c.is_primary_key)).toBe(true);
    const none = await fx.profile(select);
    expect(none.duplicate_rows).toBe(0);
    const unknown = await fx.profile(select, { input: { primaryKey: ['missing'] } });
    expect(unknown.duplicate_rows).toBe(0);
    expect(unknown.columns.some((c) => c.is_primary_key)).toBe(false);
  });

  it('keeps awkward column names as plain keys of the sample rows', async () => {
    const profile = await fx.profile(`SELECT 1 AS "__proto__", 2 AS "with space", 3 AS "quo""te"`, {
      options: { sample_rows_limit: 0 },
    });
    expect(profile.sample_rows).toEqual([]);
    const withRows = await fx.profile(`SELECT 1 AS "__proto__", 2 AS "with space", 3 AS "quo""te"`);
    expect(Object.entries(withRows.sample_rows[0] ?? {})).toEqual([
      ['__proto__', '1'],
      ['with space', '2'],
      ['quo"te', '3'],
    ]);
  });

  it('has a schema strict enough to reject a malformed profile', async () => {
    const profile = await fx.profile('SELECT range AS id FROM range(3)');
    expect(Value.Check(ProfileSchema, profile)).toBe(true);
    expect(Value.Check(ProfileSchema, { ...profile, row_count: -1 })).toBe(false);
    expect(Value.Check(ProfileSchema, { ...profile, extra: true })).toBe(false);
    const [column] = profile.columns;
    expect(Value.Check(ProfileSchema, { ...profile, columns: [{ ...column, true_count: 1 }] })).toBe(false);
  });

  it('refuses a table without files', async () => {
    await expect(profileTable(input([]), options())).rejects.toThrow(/no files/);
  });
});

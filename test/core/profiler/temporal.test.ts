import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnOf, createFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await createFixtures();
});
afterAll(async () => {
  await fx.close();
});

describe('DATE columns', () => {
  it('uses day buckets up to 62 days, empty days included', async () => {
    const profile = await fx.profile(
      `SELECT * FROM (VALUES (DATE '2024-02-27'), (DATE '2024-02-27'), (DATE '2024-03-01'), (NULL)) v(d)`,
    );
    const d = columnOf(profile, 'd', 'DATE');
    expect(d).toMatchObject({ earliest: '2024-02-27', latest: '2024-03-01', span_days: 3, unique_count: 2 });
    expect(d.sample_values).toEqual(['2024-02-27', '2024-03-01']);
    expect(d.histogram).toEqual({
      granularity: 'day',
      labels: ['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01'],
      counts: [2, 0, 0, 1],
    });
  });

  it('switches to months after 62 days and to years after three years', async () => {
    const profile = await fx.profile(
      `SELECT DATE '2024-01-31' + i AS day62, DATE '2024-01-31' + i * 63 // 3 AS month63,
         DATE '2021-01-01' + i * 1096 // 3 AS month1096, DATE '2021-01-01' + i * 1097 // 3 AS year1097
       FROM (SELECT range::INTEGER AS i FROM range(4))`,
    );
    // Spans: 3, 63, 1096 and 1097 days.
    expect(columnOf(profile, 'day62', 'DATE').histogram?.granularity).toBe('day');
    expect(columnOf(profile, 'month63', 'DATE').histogram).toEqual({
      granularity: 'month',
      labels: ['2024-01', '2024-02', '2024-03', '2024-04'],
      counts: [1, 1, 1, 1],
    });
    expect(columnOf(profile, 'month1096', 'DATE').histogram?.labels).toHaveLength(37);
    expect(columnOf(profile, 'year1097', 'DATE').histogram).toEqual({
      granularity: 'year',
      labels: ['2021', '2022', '2023', '2024'],
      counts: [1, 1, 1, 1],
    });
  });
});

describe('TIMESTAMP columns', () => {
  it('profiles TIMESTAMP with dates as YYYY-MM-DD and a span in calendar days', async () => {
    const profile = await fx.profile(
      `SELECT * FROM (VALUES (TIMESTAMP '2024-05-01 23:30:00'), (TIMESTAMP '2024-05-03 00:15:00')) v(ts)`,
    );
    const ts = columnOf(profile, 'ts', 'TIMESTAMP');
    expect(ts).toMatchObject({
      type: 'TIMESTAMP',
      earliest: '2024-05-01',
      latest: '2024-05-03',
      span_days: 2,
    });
    expect(ts.sample_values).toEqual(['2024-05-01 23:30:00', '2024-05-03 00:15:00']);
    expect(ts.histogram).toEqual({
      granularity: 'day',
      labels: ['2024-05-01', '2024-05-02', '2024-05-03'],
      counts: [1, 0, 1],
    });
  });

  it('profiles TIMESTAMPTZ in UTC', async () => {
    const profile = await fx.profile(
      `SELECT * FROM (VALUES (TIMESTAMPTZ '2024-05-01 23:30:00-03'), (TIMESTAMPTZ '2024-05-02 01:00:00+02')) v(ts)`,
    );
    const ts = columnOf(profile, 'ts', 'TIMESTAMP');
    expect(ts).toMatchObject({
      type: 'TIMESTAMP WITH TIME ZONE',
      earliest: '2024-05-01',
      latest: '2024-05-02',
    });
    expect(ts.sample_values).toEqual(['2024-05-01 23:00:00+00', '2024-05-02 02:30:00+00']);
    expect(ts.histogram?.counts).toEqual([1, 1]);
  });

  it('takes the table date range from the first date or timestamp column with data', async () => {
    const profile = await fx.profile(
      `SELECT NULL::DATE AS empty, TIMESTAMP '2023-01-01 10:00' + INTERVAL (range) DAY AS ts, DATE '2020-01-01' AS d
       FROM range(10)`,
    );
    expect(profile.date_range).toEqual({
      column: 'ts',
      earliest: '2023-01-01',
      latest: '2023-01-10',
      span_days: 9,
    });
    expect(columnOf(profile, 'empty', 'DATE')).toMatchObject({
      earliest: null,
      latest: null,
      span_days: null,
    });
    expect(columnOf(profile, 'empty', 'DATE').histogram).toBeUndefined();
    expect(profile.variable_types).toEqual({ DATE: 2, TIMESTAMP: 1 });
  });
});

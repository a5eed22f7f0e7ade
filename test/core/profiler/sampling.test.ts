import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkedProfile, columnOf, createFixtures, type Fixtures, input, options } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await createFixtures();
});
afterAll(async () => {
  await fx.close();
});

const SELECT = `SELECT range AS id, hash(range) % 1000 AS v, 'k' || (range % 7) AS k FROM range(2000)`;

describe('sampling', () => {
  it('profiles a seeded reservoir sample above `sample_size`, the same one every time', async () => {
    const file = await fx.parquet(SELECT);
    const profileInput = input([file], { primaryKey: ['id'] });
    const first = await checkedProfile(profileInput, options({ sample_size: 500 }));
    expect(first).toMatchObject({ row_count: 2000, profiled_rows: 500, sampled: true, duplicate_rows: 0 });
    expect(columnOf(first, 'id', 'NUMERIC')).toMatchObject({ unique_count: 500, null_count: 0 });
    expect(columnOf(first, 'k', 'STRING').top_values?.reduce((sum, t) => sum + t.count, 0)).toBe(500);
    const second = await checkedProfile(profileInput, options({ sample_size: 500 }));
    expect(second).toEqual(first);
  });

  it('samples across shards deterministically', async () => {
    const shards = [await fx.parquet(SELECT), await fx.parquet(`${SELECT} OFFSET 1000`)];
    const first = await checkedProfile(input(shards), options({ sample_size: 300 }));
    const second = await checkedProfile(input(shards), options({ sample_size: 300 }));
    expect(first).toMatchObject({ row_count: 3000, profiled_rows: 300, sampled: true });
    expect(second).toEqual(first);
  });

  it('profiles every row up to `sample_size`', async () => {
    const profile = await fx.profile(SELECT, { options: { sample_size: 2000 } });
    expect(profile).toMatchObject({ row_count: 2000, profiled_rows: 2000, sampled: false });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { columnOf, createFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await createFixtures();
});
afterAll(async () => {
  await fx.close();
});

describe('BOOLEAN columns', () => {
  it('counts true and false, with true_pct of the non-null values', async () => {
    const profile = await fx.profile(
      'SELECT CASE WHEN range % 4 = 3 THEN NULL ELSE range % 4 = 0 END AS b FROM range(8)',
    );
    const b = columnOf(profile, 'b', 'BOOLEAN');
    expect(b).toMatchObject({
      type: 'BOOLEAN',
      null_count: 2,
      completeness_pct: 75,
      unique_count: 2,
      unique_pct: 33.33,
      true_count: 2,
      false_count: 4,
      true_pct: 33.33,
      sample_values: ['false', 'true'],
    });
    expect(profile.variable_types).toEqual({ BOOLEAN: 1 });
  });
});

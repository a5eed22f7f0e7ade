import { describe, expect, it } from 'vitest';
import { MINUTE, useFreshStore } from './fresh-store.js';

describe('profiles repository', () => {
  const store = useFreshStore();

  it('stores the profile JSON and replaces it on the next upsert', async () => {
    const { repos, clock } = store();
    const profile = {
      row_count: 3,
      columns: [{ name: 'id', nulls: 0, top: ['a', 'b'] }],
      nested: { ok: true },
    };
    await repos.profiles.upsert({ table_id: 'orders', profile, source_hash: 'h1', duration_ms: 12 });
    clock.advance(MINUTE);

    const replaced = await repos.profiles.upsert({
      table_id: 'orders',
      profile: { row_count: 4 },
      source_hash: 'h2',
      duration_ms: 7,
    });

    expect(replaced).toEqual({
      table_id: 'orders',
      profile: { row_count: 4 },
      profiled_at: clock.iso(),
      source_hash: 'h2',
      duration_ms: 7,
    });
    expect(await repos.profiles.get('orders')).toEqual(replaced);
  });

  it('round-trips nested JSON, lists by table id and deletes', async () => {
    const { repos } = store();
    const profile = { columns: [{ name: 'id', stats: { min: 1, max: 9 }, sample: [null, 'x'] }] };
    await repos.profiles.upsert({ table_id: 'z', profile, source_hash: null, duration_ms: null });
    await repos.profiles.upsert({ table_id: 'a', profile: {}, source_hash: null, duration_ms: null });

    expect((await repos.profiles.get('z'))?.profile).toEqual(profile);
    expect((await repos.profiles.list()).map((p) => p.table_id)).toEqual(['a', 'z']);
    expect(await repos.profiles.delete('z')).toBe(true);
    expect(await repos.profiles.delete('z')).toBe(false);
    expect(await repos.profiles.get('z')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { AgnesError } from '../../../../src/core/errors.js';
import { MINUTE, useFreshStore } from './fresh-store.js';

const ORDERS = { id: 'orders', name: 'Orders', source: 'shop', source_type: 'keboola' } as const;

describe('registry repository', () => {
  const store = useFreshStore();

  it('registers with the documented defaults: private, discoverable, source table = name', async () => {
    const { repos, clock } = store();

    const entry = await repos.registry.register(ORDERS);

    expect(entry).toEqual({
      ...ORDERS,
      bucket: '',
      source_table: 'Orders',
      sync_strategy: 'full_refresh',
      query_mode: 'local',
      sync_schedule: null,
      profile_after_sync: true,
      primary_key: null,
      partition_by: null,
      partition_granularity: null,
      folder: null,
      description: null,
      registered_by: null,
      is_public: false,
      is_discoverable: true,
      catalog_fqn: null,
      registered_at: clock.iso(),
      updated_at: clock.iso(),
    });
    expect(await repos.registry.get('orders')).toEqual(entry);
  });

  it('refuses to register the same id twice', async () => {
    const { repos } = store();
    await repos.registry.register(ORDERS);

    const again = repos.registry.register({ ...ORDERS, name: 'Other' });

    await expect(again).rejects.toBeInstanceOf(AgnesError);
    await expect(again).rejects.toMatchObject({ code: 'conflict' });
  });

  it('updates only the given fields, keeps registered_at and bumps updated_at', async () => {
    const { repos, clock } = store();
    const entry = await repos.registry.register({ ...ORDERS, is_discoverable: false });
    clock.advance(MINUTE);

    const updated = await repos.registry.update('orders', { is_public: true, description: 'All orders' });

    expect(updated).toEqual({
      ...entry,
      is_public: true,
      description: 'All orders',
      updated_at: clock.iso(),
    });
    expect(updated?.registered_at).toBe(entry.registered_at);
    expect(await repos.registry.update('missing', { name: 'x' })).toBeUndefined();
  });

  it('lists by name, optionally for one source, and lists the buckets in use', async () => {
    const { repos } = store();
    await repos.registry.register({
      id: 'b_t',
      name: 'Beta',
      source: 'shop',
      source_type: 'local',
      bucket: 'in.c-main',
    });
    await repos.registry.register({
      id: 'a_t',
      name: 'Alpha',
      source: 'jira',
      source_type: 'jira',
      bucket: 'jira',
    });
    await repos.registry.register({
      id: 'c_t',
      name: 'Gamma',
      source: 'shop',
      source_type: 'local',
      bucket: 'in.c-main',
    });

    expect((await repos.registry.list()).map((e) => e.id)).toEqual(['a_t', 'b_t', 'c_t']);
    expect((await repos.registry.list({ source: 'shop' })).map((e) => e.id)).toEqual(['b_t', 'c_t']);
    expect(await repos.registry.listBuckets()).toEqual(['in.c-main', 'jira']);
  });

  it('deletes an entry once', async () => {
    const { repos } = store();
    await repos.registry.register(ORDERS);

    expect(await repos.registry.delete('orders')).toBe(true);
    expect(await repos.registry.delete('orders')).toBe(false);
    expect(await repos.registry.get('orders')).toBeUndefined();
  });
});

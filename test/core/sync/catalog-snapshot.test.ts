import { describe, expect, it } from 'vitest';
import { CatalogSnapshots } from '../../../src/core/sync/catalog-snapshot.js';
import { useFreshStore } from '../state/repositories/fresh-store.js';

const published = (id: string) => ({
  table_id: id,
  source: 'shop',
  query_mode: 'local' as const,
  layout: 'single' as const,
  last_sync: '2026-01-01T00:00:00.000Z',
  extracted_at: '2026-01-01T00:00:00.000Z',
  rows: 1,
  file_size_bytes: 10,
  uncompressed_size_bytes: 10,
  columns: 1,
  hash: 'a'.repeat(64),
  files: [
    {
      name: `${id}.parquet`,
      path: `extracts/shop/data/${id}.parquet`,
      size: 10,
      hash: 'a'.repeat(64),
      mtime_ns: '1',
    },
  ],
  status: 'ok',
  error: null,
  description: null,
  updated_generation: 1,
});

describe('CatalogSnapshots', () => {
  const store = useFreshStore();

  it('serves one snapshot while the catalog is unchanged and a new one after any registry or sync_state write', async () => {
    const { repos } = store();
    await repos.registry.register({ id: 'orders', name: 'Orders', source: 'shop', source_type: 'local' });
    await repos.syncState.upsertStates([published('orders')]);
    const snapshots = new CatalogSnapshots(repos);

    const first = await snapshots.current();
    expect(first.manifestTables.map((t) => t.id)).toEqual(['orders']);
    expect(await snapshots.current()).toBe(first);

    await repos.registry.delete('orders');
    const afterUnregister = await snapshots.current();
    expect(afterUnregister.manifestTables).toEqual([]);

    await repos.registry.register({
      id: 'orders',
      name: 'Orders again',
      source: 'shop',
      source_type: 'local',
    });
    const reregistered = await snapshots.current();
    expect(reregistered.manifestTables[0]?.json).toContain('"name":"Orders again"');

    await repos.syncState.upsertStates([{ ...published('orders'), rows: 99 }]);
    expect((await snapshots.current()).manifestTables[0]?.json).toContain('"rows":99');
  });
});

import { describe, expect, it } from 'vitest';
import { openStateDb } from '../../../src/core/state/db.js';
import { createRepositories } from '../../../src/core/state/repositories/index.js';
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

describe('cached hot reads (registry list, a user’s grants)', () => {
  const store = useFreshStore();

  it('follow every write, including one made through another connection, and hand out frozen rows', async () => {
    const { repos, dataDir } = store();
    const admin = await repos.users.create({ email: 'admin@x.io', role: 'admin' });
    const user = await repos.users.create({ email: 'a@x.io' });
    await repos.registry.register({ id: 'orders', name: 'Orders', source: 'shop', source_type: 'local' });
    const listed = await repos.registry.list();
    expect(listed.map((r) => r.id)).toEqual(['orders']);
    expect(Object.isFrozen(listed[0])).toBe(true);
    expect(await repos.permissions.grantsForUser(user.id)).toEqual([]);

    await repos.permissions.grantUser(user.id, { dataset: 'orders', access: 'read', granted_by: admin.id });
    expect((await repos.permissions.grantsForUser(user.id)).map((g) => g.dataset)).toEqual(['orders']);

    // A second connection to the same file: another process's writes.
    const other = openStateDb(dataDir);
    try {
      const elsewhere = createRepositories(other);
      await elsewhere.permissions.revokeUser(user.id, 'orders');
      await elsewhere.registry.update('orders', { name: 'All orders' });
    } finally {
      await other.destroy();
    }
    expect(await repos.permissions.grantsForUser(user.id)).toEqual([]);
    expect((await repos.registry.list()).map((r) => r.name)).toEqual(['All orders']);
  });
});

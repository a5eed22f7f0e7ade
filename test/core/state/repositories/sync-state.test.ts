import { describe, expect, it } from 'vitest';
import {
  createSyncStateRepository,
  type SyncStateUpdate,
} from '../../../../src/core/state/repositories/index.js';
import { createUser, DAY, MINUTE, useFreshStore } from './fresh-store.js';

function stateRow(tableId: string, overrides: Partial<SyncStateUpdate> = {}): SyncStateUpdate {
  return {
    table_id: tableId,
    source: 'shop',
    query_mode: 'local',
    layout: 'single',
    last_sync: null,
    extracted_at: null,
    rows: 10,
    file_size_bytes: 100,
    uncompressed_size_bytes: 250,
    columns: 3,
    hash: 'h1',
    files: [
      {
        name: 'data.parquet',
        path: `extracts/shop/data/${tableId}.parquet`,
        size: 100,
        hash: 'f1',
        mtime_ns: '1',
      },
    ],
    status: 'ok',
    error: null,
    description: null,
    updated_generation: 1,
    ...overrides,
  };
}

describe('sync-state repository', () => {
  const store = useFreshStore();

  describe('sync_state', () => {
    it('inserts and replaces state rows, keeping the watermark a rebuild does not own', async () => {
      const { repos } = store();
      await repos.syncState.upsertStates([stateRow('orders')]);
      await repos.syncState.setWatermark('orders', '2025-01-01T00:00:00.000Z');

      await repos.syncState.upsertStates([
        stateRow('orders', { rows: 11, hash: 'h2', files: [], updated_generation: 2 }),
      ]);

      expect(await repos.syncState.getState('orders')).toEqual({
        ...stateRow('orders', { rows: 11, hash: 'h2', files: [], updated_generation: 2 }),
        watermark: '2025-01-01T00:00:00.000Z',
      });
    });

    it('round-trips the files JSON and upserts more rows than one statement holds', async () => {
      const { repos } = store();
      const rows = Array.from({ length: 250 }, (_, i) => stateRow(`t_${String(i).padStart(3, '0')}`));

      await repos.syncState.upsertStates(rows);

      const listed = await repos.syncState.listStates();
      expect(listed).toHaveLength(250);
      expect(listed[0]?.files).toEqual(rows[0]?.files);
    });

    it('lists by source and marks vanished tables removed', async () => {
      const { repos } = store();
      await repos.syncState.upsertStates([stateRow('a'), stateRow('b'), stateRow('j', { source: 'jira' })]);

      expect(await repos.syncState.markRemoved(['a', 'missing'])).toBe(1);
      expect(await repos.syncState.markRemoved([])).toBe(0);

      const shop = await repos.syncState.listStates({ source: 'shop' });
      expect(shop.map((s) => [s.table_id, s.status])).toEqual([
        ['a', 'removed'],
        ['b', 'ok'],
      ]);
      expect(await repos.syncState.setWatermark('missing', null)).toBe(false);
    });

    it('writes state and history atomically when bound to the caller’s transaction', async () => {
      const { db, repos, clock } = store();

      const attempt = db.transaction().execute(async (trx) => {
        const bound = createSyncStateRepository(trx, clock);
        await bound.upsertStates([stateRow('orders')]);
        await bound.appendHistory([{ source: 'shop', status: 'ok' }]);
        throw new Error('publication failed');
      });

      await expect(attempt).rejects.toThrow('publication failed');
      expect(await repos.syncState.listStates()).toEqual([]);
      expect((await repos.syncState.listHistory()).total).toBe(0);
    });
  });

  describe('sync_history', () => {
    it('appends rows with ids and times, listing newest first per table or source', async () => {
      const { repos, clock } = store();
      await repos.syncState.appendHistory([
        { source: 'shop', status: 'ok', rows: 20 },
        { source: 'shop', table_id: 'orders', status: 'changed', rows: 20, generation: 1 },
      ]);
      clock.advance(MINUTE);
      await repos.syncState.appendHistory([
        { source: 'shop', table_id: 'orders', status: 'failed', error: 'boom' },
        { source: 'jira', table_id: 'issues', status: 'changed' },
      ]);

      const orders = await repos.syncState.listHistory({ table_id: 'orders' });
      const shop = await repos.syncState.listHistory({ source: 'shop' }, { page: 1, per_page: 2 });

      expect(orders.items.map((h) => [h.status, h.synced_at])).toEqual([
        ['failed', clock.iso()],
        ['changed', '2025-01-01T00:00:00.000Z'],
      ]);
      expect(shop.total).toBe(3);
      expect(shop.items[0]).toMatchObject({
        table_id: 'orders',
        status: 'failed',
        error: 'boom',
        job_id: null,
      });
    });

    it('shows a non-admin only table rows of the tables they may see', async () => {
      const { repos } = store();
      await repos.syncState.appendHistory([
        { source: 'shop', status: 'ok' },
        { source: 'shop', table_id: 'orders', status: 'changed' },
        { source: 'shop', table_id: 'salaries', status: 'changed' },
      ]);

      const visible = await repos.syncState.listHistory({ only_tables: ['orders'] });
      const none = await repos.syncState.listHistory({ only_tables: [] });

      expect(visible.items.map((h) => h.table_id)).toEqual(['orders']);
      expect(none).toMatchObject({ items: [], total: 0 });
    });

    it('prunes rows older than the retention period', async () => {
      const { repos, clock } = store();
      await repos.syncState.appendHistory([{ source: 'shop', status: 'ok' }]);
      clock.advance(10 * DAY);
      await repos.syncState.appendHistory([{ source: 'shop', status: 'ok' }]);

      expect(await repos.syncState.pruneHistory(5)).toBe(1);
      expect((await repos.syncState.listHistory()).total).toBe(1);
    });
  });

  describe('user_sync_settings', () => {
    it('saves changes field by field, keeping what a change leaves out', async () => {
      const { repos, clock } = store();
      const user = await createUser(repos, 'a@x.io');
      await repos.syncState.saveSettings(user.id, [{ dataset: 'sales', enabled: false }]);
      clock.advance(MINUTE);

      const [saved] = await repos.syncState.saveSettings(user.id, [
        { dataset: 'sales', table_mode: 'selected', tables: ['orders', 'refunds'] },
      ]);

      expect(saved).toEqual({
        user_id: user.id,
        dataset: 'sales',
        enabled: false,
        table_mode: 'selected',
        tables: ['orders', 'refunds'],
        updated_at: clock.iso(),
      });
      expect(await repos.syncState.getSetting(user.id, 'sales')).toEqual(saved);
    });

    it('gives a first save the column defaults and lists a user’s settings by dataset', async () => {
      const { repos } = store();
      const user = await createUser(repos, 'a@x.io');

      await repos.syncState.saveSettings(user.id, [
        { dataset: 'zeta' },
        { dataset: 'alpha', enabled: false },
      ]);

      const settings = await repos.syncState.listSettings(user.id);
      expect(settings.map((s) => [s.dataset, s.enabled, s.table_mode, s.tables])).toEqual([
        ['alpha', false, 'all', []],
        ['zeta', true, 'all', []],
      ]);
    });

    it('saves all changes or none', async () => {
      const { repos } = store();
      const user = await createUser(repos, 'a@x.io');

      const attempt = repos.syncState.saveSettings(user.id, [
        { dataset: 'sales', enabled: false },
        // Violates the table_mode CHECK constraint, failing the second statement.
        { dataset: 'hr', table_mode: 'some' as never },
      ]);

      await expect(attempt).rejects.toThrow();
      expect(await repos.syncState.listSettings(user.id)).toEqual([]);
    });
  });
});

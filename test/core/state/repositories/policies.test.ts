import { describe, expect, it } from 'vitest';
import { AgnesError } from '../../../../src/core/errors.js';
import type { NewRowPolicy } from '../../../../src/core/state/repositories/index.js';
import { createUser, MINUTE, useFreshStore } from './fresh-store.js';

describe('policies repository (12 §1)', () => {
  const store = useFreshStore();

  const register = (id: string) =>
    store().repos.registry.register({ id, name: id, source: 'shop', source_type: 'local' });
  const policy = (fields: Partial<NewRowPolicy> & Pick<NewRowPolicy, 'table_id' | 'name'>) =>
    store().repos.policies.create({
      description: '',
      applies_to: { everyone: true, users: [], groups: [] },
      row_filter: null,
      masked_columns: [],
      enabled: true,
      created_by: null,
      ...fields,
    });

  it('stores JSON fields and answers the RowPolicy shape, without the name key', async () => {
    const { repos, clock } = store();
    await register('orders');
    const admin = await createUser(repos, 'admin@x.io', 'admin');
    const created = await policy({
      table_id: 'orders',
      name: 'EU',
      row_filter: "region = 'EU'",
      masked_columns: [{ column: 'email', mask: 'hash' }],
      applies_to: { everyone: false, users: [admin.id], groups: [] },
      created_by: admin.id,
    });
    expect(created).toEqual({
      id: expect.any(String),
      table_id: 'orders',
      name: 'EU',
      description: '',
      applies_to: { everyone: false, users: [admin.id], groups: [] },
      row_filter: "region = 'EU'",
      masked_columns: [{ column: 'email', mask: 'hash' }],
      enabled: true,
      error: null,
      created_by: admin.id,
      created_at: clock.iso(),
      updated_by: admin.id,
      updated_at: clock.iso(),
    });
    expect(await repos.policies.get(created.id)).toEqual(created);
    clock.advance(MINUTE);
    const updated = await repos.policies.update(created.id, { enabled: false, updated_by: null });
    expect(updated).toEqual({ ...created, enabled: false, updated_by: null, updated_at: clock.iso() });
  });

  it('refuses a second name per table in any case with policy_exists, and an unknown table', async () => {
    await register('orders');
    await register('refunds');
    const first = await policy({ table_id: 'orders', name: 'Region' });
    await expect(policy({ table_id: 'orders', name: 'REGION' })).rejects.toMatchObject({
      code: 'policy_exists',
    });
    await policy({ table_id: 'refunds', name: 'region' });
    const other = await policy({ table_id: 'orders', name: 'Other' });
    const clash = store().repos.policies.update(other.id, { name: 'region', updated_by: null });
    await expect(clash).rejects.toBeInstanceOf(AgnesError);
    await expect(clash).rejects.toMatchObject({ code: 'policy_exists' });
    expect((await store().repos.policies.get(first.id))?.name).toBe('Region');
    await expect(policy({ table_id: 'nowhere', name: 'x' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('lists the policies of several tables in one call, by table and name', async () => {
    const { repos } = store();
    await register('orders');
    await register('refunds');
    await register('plain');
    await policy({ table_id: 'refunds', name: 'b' });
    await policy({ table_id: 'orders', name: 'Z', enabled: false });
    await policy({ table_id: 'orders', name: 'a' });
    const listed = await repos.policies.listForTables(['orders', 'refunds', 'plain', 'orders']);
    expect(listed.map((p) => `${p.table_id}/${p.name}`)).toEqual(['orders/a', 'orders/Z', 'refunds/b']);
    expect(await repos.policies.listForTables([])).toEqual([]);
    expect((await repos.policies.listForTable('plain')).length).toBe(0);
    expect(await repos.policies.boundTables()).toEqual(new Set(['orders', 'refunds']));
  });

  it('answers true from setError only when a policy moves between binding and failing', async () => {
    const { repos } = store();
    await register('orders');
    const { id } = await policy({ table_id: 'orders', name: 'p' });
    expect(await repos.policies.setError(id, null)).toBe(false);
    const concurrent = await Promise.all([
      repos.policies.setError(id, 'unknown column region'),
      repos.policies.setError(id, 'unknown column region'),
    ]);
    expect(concurrent.filter(Boolean)).toHaveLength(1);
    expect(await repos.policies.setError(id, 'unknown column country')).toBe(false);
    expect((await repos.policies.get(id))?.error).toBe('unknown column country');
    expect(await repos.policies.setError(id, null)).toBe(true);
    expect((await repos.policies.get(id))?.error).toBeNull();
    expect(await repos.policies.setError(id, 'again')).toBe(true);
  });

  it('goes with its table (CASCADE) and deletes once', async () => {
    const { repos } = store();
    await register('orders');
    const first = await policy({ table_id: 'orders', name: 'p' });
    const second = await policy({ table_id: 'orders', name: 'q' });
    expect(await repos.policies.delete(first.id)).toBe(true);
    expect(await repos.policies.delete(first.id)).toBe(false);
    await repos.registry.delete('orders');
    expect(await repos.policies.get(second.id)).toBeUndefined();
  });
});

describe('user attributes repository (12 §1)', () => {
  const store = useFreshStore();

  it('replaces every key at once and reads them back by key', async () => {
    const { repos } = store();
    const user = await createUser(repos, 'a@x.io');
    expect(await repos.userAttributes.get(user.id)).toEqual({});
    await repos.userAttributes.replace(user.id, { regions: ['EU', 'US'], team: [] });
    expect(await repos.userAttributes.get(user.id)).toEqual({ regions: ['EU', 'US'], team: [] });
    await repos.userAttributes.replace(user.id, { cost_center: ['42'] });
    expect(await repos.userAttributes.get(user.id)).toEqual({ cost_center: ['42'] });
    await expect(repos.userAttributes.replace('nobody', { a: ['b'] })).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('goes with its user', async () => {
    const { repos } = store();
    const user = await createUser(repos, 'a@x.io');
    await repos.userAttributes.replace(user.id, { regions: ['EU'] });
    await repos.users.delete(user.id);
    expect(await repos.userAttributes.get(user.id)).toEqual({});
  });
});

import { describe, expect, it } from 'vitest';
import { accessView } from '../../../src/core/access/access.js';
import {
  decideAccess,
  type GrantRow,
  type Principal,
  type RegisteredTable,
} from '../../../src/core/access/decide.js';

const analyst: Principal = {
  id: 'u1',
  email: 'a@x.io',
  role: 'analyst',
  active: true,
  is_service: false,
  groups: [],
};
const table = (id: string, bucket = '', extra: Partial<RegisteredTable> = {}): RegisteredTable => ({
  id,
  bucket,
  is_public: false,
  is_discoverable: true,
  ...extra,
});
const user = (dataset: string, access: 'read' | 'none' = 'read'): GrantRow => ({
  dataset,
  access,
  group: null,
});
const group = (dataset: string, name = 'Analysts', access: 'read' | 'none' = 'read'): GrantRow => ({
  dataset,
  access,
  group: name,
});

describe('decideAccess (04 §6.1, first match decides)', () => {
  it('denies an inactive principal before anything else, even an admin', () => {
    const decision = decideAccess(
      { ...analyst, role: 'admin', active: false },
      'orders',
      table('orders', '', { is_public: true }),
      [],
    );
    expect(decision).toEqual({ allowed: false, reason: 'inactive', via: null });
  });

  it('lets an admin read every view, registered or not', () => {
    expect(decideAccess({ ...analyst, role: 'admin' }, 'anything', undefined, []).reason).toBe('admin');
  });

  it('keeps unregistered views admin-only, whatever grants exist', () => {
    expect(decideAccess(analyst, 'orders', undefined, [user('orders')])).toEqual({
      allowed: false,
      reason: 'unregistered',
      via: null,
    });
  });

  it('denies by default: a registered table is private unless public or granted', () => {
    expect(decideAccess(analyst, 'orders', table('orders', 'sales'), []).reason).toBe('no_grant');
  });

  it('allows public tables', () => {
    expect(
      decideAccess(analyst, 'products', table('products', 'sales', { is_public: true }), []).reason,
    ).toBe('public');
  });

  it('allows a direct grant, then a group grant naming the group', () => {
    expect(decideAccess(analyst, 'orders', table('orders'), [user('orders')]).reason).toBe('user_grant');
    expect(decideAccess(analyst, 'orders', table('orders'), [group('orders', 'Finance')])).toEqual({
      allowed: true,
      reason: 'group_grant',
      via: 'Finance',
    });
  });

  it('allows a bucket wildcard for the user or a group, but only on non-empty buckets', () => {
    expect(
      decideAccess(analyst, 'campaigns', table('campaigns', 'marketing'), [user('marketing.*')]).reason,
    ).toBe('bucket_grant');
    expect(
      decideAccess(analyst, 'campaigns', table('campaigns', 'marketing'), [group('marketing.*', 'Mkt')]),
    ).toEqual({
      allowed: true,
      reason: 'bucket_grant',
      via: 'Mkt',
    });
    expect(decideAccess(analyst, 'orders', table('orders', ''), [user('.*')]).reason).toBe('no_grant');
  });

  it('treats access none as no grant, never as a deny', () => {
    expect(decideAccess(analyst, 'orders', table('orders', 'sales'), [user('orders', 'none')]).reason).toBe(
      'no_grant',
    );
    expect(
      decideAccess(analyst, 'orders', table('orders', 'sales', { is_public: true }), [user('orders', 'none')])
        .reason,
    ).toBe('public');
    expect(
      decideAccess(analyst, 'orders', table('orders', 'sales'), [user('orders', 'none'), group('orders')])
        .reason,
    ).toBe('group_grant');
  });

  it('never matches a grant on another table or bucket', () => {
    const grants = [user('order'), user('orders_archive'), user('sales'), user('sales*'), group('sal.*')];
    expect(decideAccess(analyst, 'orders', table('orders', 'sales'), grants).reason).toBe('no_grant');
  });

  it('gives km_admin no data bypass', () => {
    expect(decideAccess({ ...analyst, role: 'km_admin' }, 'orders', table('orders'), []).reason).toBe(
      'no_grant',
    );
  });
});

describe('accessView', () => {
  const registry = [
    table('orders', 'sales'),
    table('customers', 'sales'),
    table('products', 'sales', { is_public: true }),
    table('salaries', 'hr', { is_discoverable: false }),
    table('campaigns', 'marketing'),
  ];

  it('lists readable tables and datasets, and hides non-discoverable tables it cannot read', () => {
    const view = accessView(analyst, registry, [user('orders'), group('marketing.*')]);
    expect(view.readableTables().sort()).toEqual(['campaigns', 'orders', 'products']);
    expect(view.readableDatasets()).toEqual(['marketing', 'sales']);
    expect(view.isVisible('customers')).toBe(true);
    expect(view.isVisible('salaries')).toBe(false);
    expect(view.isVisible('unknown')).toBe(false);
  });

  it('lets an admin read every registered table', () => {
    const view = accessView({ ...analyst, role: 'admin' }, registry, []);
    expect(view.readableTables()).toHaveLength(registry.length);
    expect(view.isVisible('salaries')).toBe(true);
  });
});

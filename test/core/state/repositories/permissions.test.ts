import { describe, expect, it } from 'vitest';
import { createUser, MINUTE, useFreshStore } from './fresh-store.js';

describe('permissions repository', () => {
  const store = useFreshStore();

  it('upserts a user grant, replacing access, grantor and time', async () => {
    const { repos, clock } = store();
    const admin = await createUser(repos, 'admin@x.io', 'admin');
    const user = await createUser(repos, 'a@x.io');
    await repos.permissions.grantUser(user.id, { dataset: 'orders', access: 'read', granted_by: null });
    clock.advance(MINUTE);

    const regranted = await repos.permissions.grantUser(user.id, {
      dataset: 'orders',
      access: 'none',
      granted_by: admin.id,
    });

    expect(regranted).toEqual({
      user_id: user.id,
      dataset: 'orders',
      access: 'none',
      granted_by: admin.id,
      granted_at: clock.iso(),
    });
    expect(await repos.permissions.listForUser(user.id)).toEqual([regranted]);
  });

  it('refuses grants for unknown users and groups', async () => {
    const { repos } = store();
    const grant = { dataset: 'orders', access: 'read', granted_by: null } as const;

    await expect(repos.permissions.grantUser('nobody', grant)).rejects.toMatchObject({ code: 'not_found' });
    await expect(repos.permissions.grantGroup('nogroup', grant)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('revokes and reports whether anything was revoked', async () => {
    const { repos } = store();
    const user = await createUser(repos, 'a@x.io');
    const group = await repos.groups.create({ name: 'g' });
    await repos.permissions.grantUser(user.id, { dataset: 'orders', access: 'read', granted_by: null });
    await repos.permissions.grantGroup(group.id, { dataset: 'orders', access: 'read', granted_by: null });

    expect(await repos.permissions.revokeUser(user.id, 'orders')).toBe(true);
    expect(await repos.permissions.revokeUser(user.id, 'orders')).toBe(false);
    expect(await repos.permissions.revokeGroup(group.id, 'orders')).toBe(true);
    expect(await repos.permissions.revokeGroup(group.id, 'orders')).toBe(false);
  });

  it('returns every grant that reaches a user, directly or through groups, naming the group', async () => {
    const { repos } = store();
    const user = await createUser(repos, 'a@x.io');
    const outsider = await createUser(repos, 'b@x.io');
    const finance = await repos.groups.create({ name: 'Finance' });
    const analysts = await repos.groups.create({ name: 'analysts' });
    const unrelated = await repos.groups.create({ name: 'Other' });
    await repos.groups.addMember(finance.id, user.id, null);
    await repos.groups.addMember(analysts.id, user.id, null);
    await repos.groups.addMember(unrelated.id, outsider.id, null);
    await repos.permissions.grantUser(user.id, { dataset: 'orders', access: 'read', granted_by: null });
    await repos.permissions.grantUser(outsider.id, { dataset: 'secret', access: 'read', granted_by: null });
    await repos.permissions.grantGroup(finance.id, { dataset: 'sales.*', access: 'read', granted_by: null });
    await repos.permissions.grantGroup(analysts.id, { dataset: 'orders', access: 'none', granted_by: null });
    await repos.permissions.grantGroup(unrelated.id, { dataset: 'hr', access: 'read', granted_by: null });

    const grants = await repos.permissions.grantsForUser(user.id);

    expect(grants).toEqual([
      { dataset: 'orders', access: 'read', via: { kind: 'user' } },
      {
        dataset: 'orders',
        access: 'none',
        via: { kind: 'group', group_id: analysts.id, group_name: 'analysts' },
      },
      {
        dataset: 'sales.*',
        access: 'read',
        via: { kind: 'group', group_id: finance.id, group_name: 'Finance' },
      },
    ]);
  });

  it('lists grants per dataset and pages direct grants with the grantee’s email', async () => {
    const { repos } = store();
    const bea = await createUser(repos, 'bea@x.io');
    const al = await createUser(repos, 'al@x.io');
    const group = await repos.groups.create({ name: 'g' });
    await repos.permissions.grantUser(bea.id, { dataset: 'orders', access: 'read', granted_by: null });
    await repos.permissions.grantUser(al.id, { dataset: 'orders', access: 'read', granted_by: null });
    await repos.permissions.grantUser(al.id, { dataset: 'hr', access: 'read', granted_by: null });
    await repos.permissions.grantGroup(group.id, { dataset: 'orders', access: 'read', granted_by: null });

    const forOrders = await repos.permissions.listForDataset('orders');
    const all = await repos.permissions.listUserGrants({}, { page: 1, per_page: 2 });
    const orders = await repos.permissions.listUserGrants({ dataset: 'orders' });

    expect(forOrders.users.map((p) => p.user_id).sort()).toEqual([al.id, bea.id].sort());
    expect(forOrders.groups.map((p) => p.group_id)).toEqual([group.id]);
    expect(all.total).toBe(3);
    expect(all.items.map((p) => [p.dataset, p.email])).toEqual([
      ['hr', 'al@x.io'],
      ['orders', 'al@x.io'],
    ]);
    expect(orders.items.map((p) => p.email)).toEqual(['al@x.io', 'bea@x.io']);
  });

  it('removes every user and group grant on exactly one dataset', async () => {
    const { repos } = store();
    const user = await createUser(repos, 'a@x.io');
    const group = await repos.groups.create({ name: 'g' });
    await repos.permissions.grantUser(user.id, { dataset: 'orders', access: 'read', granted_by: null });
    await repos.permissions.grantUser(user.id, {
      dataset: 'orders_archive',
      access: 'read',
      granted_by: null,
    });
    await repos.permissions.grantGroup(group.id, { dataset: 'orders', access: 'read', granted_by: null });

    expect(await repos.permissions.revokeAllForDataset('orders')).toBe(2);

    expect((await repos.permissions.listForUser(user.id)).map((p) => p.dataset)).toEqual(['orders_archive']);
    expect(await repos.permissions.listForGroup(group.id)).toEqual([]);
  });
});

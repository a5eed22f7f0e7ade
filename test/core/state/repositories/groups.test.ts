import { describe, expect, it } from 'vitest';
import { createUser, useFreshStore } from './fresh-store.js';

describe('groups repository', () => {
  const store = useFreshStore();

  it('keeps group names unique regardless of case', async () => {
    const { repos, clock } = store();
    const group = await repos.groups.create({ name: 'Finance', description: 'money', created_by: null });

    const duplicate = repos.groups.create({ name: 'FINANCE' });

    expect(group).toMatchObject({
      name: 'Finance',
      name_key: 'finance',
      description: 'money',
      created_at: clock.iso(),
    });
    await expect(duplicate).rejects.toMatchObject({ code: 'conflict' });
    expect(await repos.groups.getByName('fInAnCe')).toEqual(group);
  });

  it('renames, refusing another group’s name in any case but allowing a new case of its own', async () => {
    const { repos } = store();
    const finance = await repos.groups.create({ name: 'Finance' });
    await repos.groups.create({ name: 'Sales' });

    await expect(repos.groups.update(finance.id, { name: 'sales' })).rejects.toMatchObject({
      code: 'conflict',
    });
    const recased = await repos.groups.update(finance.id, { name: 'FINANCE', description: 'd' });

    expect(recased).toMatchObject({ name: 'FINANCE', name_key: 'finance', description: 'd' });
    expect(await repos.groups.update('missing', { description: 'x' })).toBeUndefined();
  });

  it('adds members once, reports unknown users, and lists both directions', async () => {
    const { repos, clock } = store();
    const admin = await createUser(repos, 'admin@x.io', 'admin');
    const bea = await createUser(repos, 'bea@x.io');
    const al = await createUser(repos, 'al@x.io');
    const finance = await repos.groups.create({ name: 'Finance' });
    const audit = await repos.groups.create({ name: 'audit' });

    expect(await repos.groups.addMember(finance.id, bea.id, admin.id)).toBe(true);
    expect(await repos.groups.addMember(finance.id, bea.id, admin.id)).toBe(false);
    await repos.groups.addMember(finance.id, al.id, null);
    await repos.groups.addMember(audit.id, bea.id, null);
    await expect(repos.groups.addMember(finance.id, 'nobody', null)).rejects.toMatchObject({
      code: 'not_found',
    });

    expect(await repos.groups.listMembers(finance.id)).toEqual([
      { id: al.id, email: 'al@x.io', name: '', added_by: null, added_at: clock.iso() },
      { id: bea.id, email: 'bea@x.io', name: '', added_by: admin.id, added_at: clock.iso() },
    ]);
    expect((await repos.groups.listGroupsOfUser(bea.id)).map((g) => g.name)).toEqual(['audit', 'Finance']);
    expect(await repos.groups.removeMember(finance.id, bea.id)).toBe(true);
    expect(await repos.groups.removeMember(finance.id, bea.id)).toBe(false);
  });

  it('lists groups by name with member and grant counts', async () => {
    const { repos } = store();
    const user = await createUser(repos, 'a@x.io');
    const zeta = await repos.groups.create({ name: 'zeta' });
    await repos.groups.create({ name: 'Alpha' });
    await repos.groups.create({ name: 'beta' });
    await repos.groups.addMember(zeta.id, user.id, null);
    await repos.permissions.grantGroup(zeta.id, { dataset: 'orders', access: 'read', granted_by: null });
    await repos.permissions.grantGroup(zeta.id, { dataset: 'sales.*', access: 'read', granted_by: null });

    const first = await repos.groups.list({ page: 1, per_page: 2 });
    const second = await repos.groups.list({ page: 2, per_page: 2 });

    expect(first.total).toBe(3);
    expect(first.items.map((g) => g.name)).toEqual(['Alpha', 'beta']);
    expect(second.items).toEqual([
      expect.objectContaining({ name: 'zeta', member_count: 1, permission_count: 2 }),
    ]);
  });

  it('deleting a group removes its memberships and grants', async () => {
    const { repos } = store();
    const user = await createUser(repos, 'a@x.io');
    const group = await repos.groups.create({ name: 'Finance' });
    await repos.groups.addMember(group.id, user.id, null);
    await repos.permissions.grantGroup(group.id, { dataset: 'orders', access: 'read', granted_by: null });

    expect(await repos.groups.delete(group.id)).toBe(true);

    expect(await repos.groups.getById(group.id)).toBeUndefined();
    expect(await repos.groups.listGroupsOfUser(user.id)).toEqual([]);
    expect(await repos.permissions.listForGroup(group.id)).toEqual([]);
    expect(await repos.groups.delete(group.id)).toBe(false);
  });
});

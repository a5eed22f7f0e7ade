import { describe, expect, it } from 'vitest';
import { AgnesError } from '../../../../src/core/errors.js';
import { createUser, MINUTE, useFreshStore } from './fresh-store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('users repository', () => {
  const store = useFreshStore();

  it('stores the email trimmed and lower-cased, with defaults and real booleans', async () => {
    const { repos, clock } = store();

    const user = await repos.users.create({ email: '  Ada@Example.COM ', name: 'Ada' });

    expect(user).toMatchObject({
      email: 'ada@example.com',
      name: 'Ada',
      role: 'analyst',
      active: true,
      is_service: false,
      password_hash: null,
      created_at: clock.iso(),
      updated_at: clock.iso(),
    });
    expect(user.id).toMatch(UUID);
    expect(await repos.users.getByEmail('ADA@example.com ')).toEqual(user);
    expect(await repos.users.getById(user.id)).toEqual(user);
  });

  it('rejects a second user with the same email in another case as a conflict', async () => {
    const { repos } = store();
    await repos.users.create({ email: 'ada@example.com' });

    const duplicate = repos.users.create({ email: 'ADA@example.com' });

    await expect(duplicate).rejects.toBeInstanceOf(AgnesError);
    await expect(duplicate).rejects.toMatchObject({ code: 'conflict' });
  });

  it('finds users by the hashes of their setup and reset tokens', async () => {
    const { repos } = store();
    const user = await repos.users.create({ email: 'a@x.io', setup_token: 'setup-hash' });
    await repos.users.update(user.id, { reset_token: 'reset-hash' });

    expect((await repos.users.getBySetupToken('setup-hash'))?.id).toBe(user.id);
    expect((await repos.users.getByResetToken('reset-hash'))?.id).toBe(user.id);
    expect(await repos.users.getBySetupToken('other')).toBeUndefined();
  });

  it('lists by email with totals, pages and filters', async () => {
    const { repos } = store();
    for (const email of ['e@x.io', 'c@x.io', 'a@x.io', 'd@x.io', 'b@x.io']) await createUser(repos, email);
    const admin = await createUser(repos, 'root@x.io', 'admin');
    await repos.users.update(admin.id, { active: false, name: 'Root Person' });

    const second = await repos.users.list({}, { page: 2, per_page: 2 });
    const admins = await repos.users.list({ role: 'admin' });
    const inactive = await repos.users.list({ active: false });
    const searched = await repos.users.list({ search: 'ROOT p' });

    expect(second).toMatchObject({ total: 6, page: 2, per_page: 2 });
    expect(second.items.map((u) => u.email)).toEqual(['c@x.io', 'd@x.io']);
    expect(admins.items.map((u) => u.email)).toEqual(['root@x.io']);
    expect(inactive.total).toBe(1);
    expect(searched.items.map((u) => u.id)).toEqual([admin.id]);
  });

  it('refuses pages that would produce a negative offset', async () => {
    const { repos } = store();

    await expect(repos.users.list({}, { page: 0, per_page: 10 })).rejects.toMatchObject({
      code: 'validation_failed',
    });
    await expect(repos.users.list({}, { page: 1, per_page: 201 })).rejects.toMatchObject({
      code: 'validation_failed',
    });
  });

  it('updates the given fields and stamps updated_at', async () => {
    const { repos, clock } = store();
    const user = await createUser(repos, 'a@x.io');
    clock.advance(MINUTE);

    const updated = await repos.users.update(user.id, {
      role: 'km_admin',
      is_service: true,
      active: false,
      sessions_valid_after: clock.iso(),
      password_hash: '$argon2id$stub',
    });

    expect(updated).toMatchObject({
      role: 'km_admin',
      is_service: true,
      active: false,
      name: '',
      sessions_valid_after: clock.iso(),
      password_hash: '$argon2id$stub',
      created_at: user.created_at,
      updated_at: clock.iso(),
    });
    expect(await repos.users.update('missing', { name: 'x' })).toBeUndefined();
  });

  it('counts users, users per role and active admins', async () => {
    const { repos } = store();
    await createUser(repos, 'a1@x.io', 'admin');
    const inactiveAdmin = await createUser(repos, 'a2@x.io', 'admin');
    await repos.users.update(inactiveAdmin.id, { active: false });
    await createUser(repos, 'v@x.io', 'viewer');

    expect(await repos.users.count()).toBe(3);
    expect(await repos.users.countByRole()).toEqual({ viewer: 1, analyst: 0, km_admin: 0, admin: 2 });
    expect(await repos.users.countActiveAdmins()).toBe(1);
  });

  it('deleting a user removes everything that belongs to them but keeps their audit rows', async () => {
    const { repos, clock } = store();
    const user = await createUser(repos, 'gone@x.io');
    const keeper = await createUser(repos, 'stays@x.io');
    const group = await repos.groups.create({ name: 'Finance' });
    const item = await repos.knowledge.create({
      title: 'Fact',
      content: 'c',
      category: null,
      tags: [],
      status: 'approved',
      contributors: [],
      source_user: keeper.id,
      content_hash: null,
      origin: 'manual',
    });
    const future = clock.isoIn(60 * MINUTE);
    await repos.tokens.create({
      user_id: user.id,
      name: 't',
      token_hash: 'h',
      prefix: 'p',
      expires_at: null,
    });
    await repos.tokens.createMagicLink({ token_hash: 'm', user_id: user.id, expires_at: future });
    await repos.groups.addMember(group.id, user.id, keeper.id);
    await repos.permissions.grantUser(user.id, { dataset: 'orders', access: 'read', granted_by: keeper.id });
    await repos.syncState.saveSettings(user.id, [{ dataset: 'sales', enabled: false }]);
    await repos.knowledge.setVote(item.id, user.id, 1);
    await repos.telegram.link(user.id, 42, null);
    await repos.alerts.create({
      owner_id: user.id,
      name: 'a',
      sql: 'select 1',
      condition: { type: 'row_count', op: '>', threshold: 0 },
      message_template: 'm',
      schedule: 'every 1h',
      channels: [],
    });
    await repos.notifications.create([
      {
        user_id: user.id,
        title: 't',
        message: 'm',
        source_kind: 'system',
        telegram_status: 'skipped',
        ws_status: 'skipped',
      },
    ]);
    await repos.accessRequests.create({ user_id: user.id, user_email: user.email, table_id: 'orders' });
    await repos.audit.append({ user_id: user.id, action: 'auth.login', result: 'ok' });

    expect(await repos.users.delete(user.id)).toBe(true);

    expect(await repos.users.getById(user.id)).toBeUndefined();
    expect(await repos.tokens.listByUser(user.id)).toEqual([]);
    expect(await repos.tokens.consumeMagicLink('m')).toBeUndefined();
    expect(await repos.groups.listMembers(group.id)).toEqual([]);
    expect(await repos.permissions.listForUser(user.id)).toEqual([]);
    expect(await repos.syncState.listSettings(user.id)).toEqual([]);
    expect(await repos.knowledge.votesOfUser(user.id)).toEqual({});
    expect(await repos.telegram.getByUser(user.id)).toBeUndefined();
    expect(await repos.alerts.list(user.id)).toEqual([]);
    expect((await repos.notifications.listForUser(user.id)).total).toBe(0);
    expect((await repos.accessRequests.list({ user_id: user.id })).total).toBe(0);
    const audit = await repos.audit.list({ user_id: user.id });
    expect(audit.items.map((entry) => entry.user_id)).toEqual([user.id]);
    expect(await repos.groups.getById(group.id)).toBeDefined();
    expect(await repos.users.delete(user.id)).toBe(false);
  });
});

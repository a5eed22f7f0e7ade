import { describe, expect, it } from 'vitest';
import { AgnesError } from '../../../../src/core/errors.js';
import type { User } from '../../../../src/core/state/repositories/index.js';
import { createUser, MINUTE, useFreshStore } from './fresh-store.js';

describe('access-requests repository', () => {
  const store = useFreshStore();

  const request = (user: User, tableId: string, reason: string | null = null) =>
    store().repos.accessRequests.create({
      user_id: user.id,
      user_email: user.email,
      table_id: tableId,
      reason,
    });

  it('creates a pending request', async () => {
    const { repos, clock } = store();
    const user = await createUser(repos, 'a@x.io');

    const created = await request(user, 'orders', 'quarterly report');

    expect(created).toMatchObject({
      user_id: user.id,
      user_email: 'a@x.io',
      table_id: 'orders',
      reason: 'quarterly report',
      status: 'pending',
      reviewed_by: null,
      created_at: clock.iso(),
    });
    expect(await repos.accessRequests.get(created.id)).toEqual(created);
  });

  it('allows one pending request per user and table, and a new one once it is decided', async () => {
    const { repos } = store();
    const admin = await createUser(repos, 'admin@x.io', 'admin');
    const user = await createUser(repos, 'a@x.io');
    const first = await request(user, 'orders');

    const duplicate = request(user, 'orders');

    await expect(duplicate).rejects.toBeInstanceOf(AgnesError);
    await expect(duplicate).rejects.toMatchObject({
      code: 'conflict',
      detail: 'a pending request for this table already exists',
    });
    await repos.accessRequests.review(first.id, { status: 'denied', reviewer: admin.id });
    await expect(request(user, 'orders')).resolves.toMatchObject({ status: 'pending' });
  });

  it('lets exactly one of two concurrent approvals win; the other gets a conflict', async () => {
    const { repos } = store();
    const admin = await createUser(repos, 'admin@x.io', 'admin');
    const other = await createUser(repos, 'other@x.io', 'admin');
    const user = await createUser(repos, 'a@x.io');
    const pending = await request(user, 'orders');

    const outcomes = await Promise.allSettled([
      repos.accessRequests.review(pending.id, { status: 'approved', reviewer: admin.id, note: 'ok' }),
      repos.accessRequests.review(pending.id, { status: 'approved', reviewer: other.id }),
    ]);

    const winners = outcomes.filter((o) => o.status === 'fulfilled');
    const losers = outcomes.filter((o) => o.status === 'rejected');
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expect(losers[0]?.reason).toMatchObject({
      code: 'conflict',
      detail: 'access request is approved, not pending',
    });
    expect(await repos.accessRequests.get(pending.id)).toMatchObject({
      status: 'approved',
      reviewed_at: expect.any(String),
    });
  });

  it('stamps the reviewer, time and note, and refuses to review again or an unknown id', async () => {
    const { repos, clock } = store();
    const admin = await createUser(repos, 'admin@x.io', 'admin');
    const user = await createUser(repos, 'a@x.io');
    const pending = await request(user, 'orders');
    clock.advance(MINUTE);

    const denied = await repos.accessRequests.review(pending.id, {
      status: 'denied',
      reviewer: admin.id,
      note: 'no',
    });

    expect(denied).toMatchObject({
      status: 'denied',
      reviewed_by: admin.id,
      reviewed_at: clock.iso(),
      review_note: 'no',
    });
    await expect(
      repos.accessRequests.review(pending.id, { status: 'approved', reviewer: admin.id }),
    ).rejects.toMatchObject({
      code: 'conflict',
    });
    await expect(
      repos.accessRequests.review('missing', { status: 'approved', reviewer: admin.id }),
    ).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('lets only the requester cancel, and only while pending', async () => {
    const { repos } = store();
    const user = await createUser(repos, 'a@x.io');
    const stranger = await createUser(repos, 'b@x.io');
    const pending = await request(user, 'orders');

    await expect(repos.accessRequests.cancel(pending.id, stranger.id)).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(repos.accessRequests.cancel(pending.id, user.id)).resolves.toMatchObject({
      status: 'cancelled',
    });
    await expect(repos.accessRequests.cancel(pending.id, user.id)).rejects.toMatchObject({
      code: 'conflict',
    });
  });

  it('rolls back an approval when the grant in the same transaction fails', async () => {
    const { repos } = store();
    const admin = await createUser(repos, 'admin@x.io', 'admin');
    const user = await createUser(repos, 'a@x.io');
    const pending = await request(user, 'orders');

    const attempt = repos.transaction(async (tx) => {
      await tx.accessRequests.review(pending.id, { status: 'approved', reviewer: admin.id });
      await tx.permissions.grantUser('deleted-user', {
        dataset: 'orders',
        access: 'read',
        granted_by: admin.id,
      });
    });

    await expect(attempt).rejects.toMatchObject({ code: 'not_found' });
    expect(await repos.accessRequests.get(pending.id)).toMatchObject({ status: 'pending' });
  });

  it('lists newest first with status and user filters, and counts pending requests per user', async () => {
    const { repos, clock } = store();
    const admin = await createUser(repos, 'admin@x.io', 'admin');
    const user = await createUser(repos, 'a@x.io');
    const other = await createUser(repos, 'b@x.io');
    const first = await request(user, 't1');
    clock.advance(MINUTE);
    await request(user, 't2');
    clock.advance(MINUTE);
    const third = await request(other, 't1');
    await repos.accessRequests.review(first.id, { status: 'approved', reviewer: admin.id });

    const all = await repos.accessRequests.list({}, { page: 1, per_page: 2 });
    const pending = await repos.accessRequests.list({ status: 'pending' });
    const mine = await repos.accessRequests.list({ user_id: user.id });

    expect(all.total).toBe(3);
    expect(all.items[0]?.id).toBe(third.id);
    expect(pending.items.map((r) => r.table_id)).toEqual(['t1', 't2']);
    expect(mine.items.map((r) => r.table_id)).toEqual(['t2', 't1']);
    expect(await repos.accessRequests.countPendingByUser(user.id)).toBe(1);
  });

  it('cancels the pending requests of an unregistered table only', async () => {
    const { repos } = store();
    const admin = await createUser(repos, 'admin@x.io', 'admin');
    const user = await createUser(repos, 'a@x.io');
    const other = await createUser(repos, 'b@x.io');
    const approved = await request(user, 'orders');
    await repos.accessRequests.review(approved.id, { status: 'approved', reviewer: admin.id });
    await request(other, 'orders');
    await request(other, 'refunds');

    expect(await repos.accessRequests.cancelPendingForTable('orders')).toBe(1);

    const statuses = (await repos.accessRequests.list()).items.map((r) => [r.table_id, r.status]);
    expect(statuses).toEqual(
      expect.arrayContaining([
        ['orders', 'approved'],
        ['orders', 'cancelled'],
        ['refunds', 'pending'],
      ]),
    );
  });
});

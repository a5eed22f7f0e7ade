import { describe, expect, it } from 'vitest';
import type { NewNotification } from '../../../../src/core/state/repositories/index.js';
import { createUser, DAY, MINUTE, useFreshStore } from './fresh-store.js';

function notification(userId: string, overrides: Partial<NewNotification> = {}): NewNotification {
  return {
    user_id: userId,
    title: 'Alert fired',
    message: 'Orders dropped',
    source_kind: 'alert',
    source_id: 'a1',
    telegram_status: 'skipped',
    ws_status: 'skipped',
    ...overrides,
  };
}

describe('notifications repository', () => {
  const store = useFreshStore();

  it('creates one row per recipient, due at once only when a channel is pending', async () => {
    const { repos, clock } = store();
    const a = await createUser(repos, 'a@x.io');
    const b = await createUser(repos, 'b@x.io');

    const [pending, skipped] = await repos.notifications.create([
      notification(a.id, { telegram_status: 'pending' }),
      notification(b.id),
    ]);

    expect(pending).toMatchObject({
      user_id: a.id,
      attempts: 0,
      read_at: null,
      next_attempt_at: clock.iso(),
    });
    expect(skipped).toMatchObject({ user_id: b.id, next_attempt_at: null });
    expect(await repos.notifications.create([])).toEqual([]);
  });

  it('lists a user’s notifications newest first, optionally unread only', async () => {
    const { repos, clock } = store();
    const user = await createUser(repos, 'a@x.io');
    const other = await createUser(repos, 'b@x.io');
    const [oldest] = await repos.notifications.create([notification(user.id, { title: 'first' })]);
    clock.advance(MINUTE);
    await repos.notifications.create([notification(user.id, { title: 'second' }), notification(other.id)]);
    clock.advance(MINUTE);
    await repos.notifications.create([notification(user.id, { title: 'third' })]);
    await repos.notifications.markRead(oldest?.id ?? '', user.id);

    const page = await repos.notifications.listForUser(user.id, {}, { page: 1, per_page: 2 });
    const unread = await repos.notifications.listForUser(user.id, { unread: true });

    expect(page.total).toBe(3);
    expect(page.items.map((n) => n.title)).toEqual(['third', 'second']);
    expect(unread.items.map((n) => n.title)).toEqual(['third', 'second']);
  });

  it('marks only the user’s own notifications read, keeping the first read time', async () => {
    const { repos, clock } = store();
    const user = await createUser(repos, 'a@x.io');
    const stranger = await createUser(repos, 'b@x.io');
    const [mine] = await repos.notifications.create([notification(user.id), notification(user.id)]);
    const id = mine?.id ?? '';
    const readAt = clock.iso();

    expect(await repos.notifications.markRead(id, stranger.id)).toBe(false);
    expect(await repos.notifications.markRead(id, user.id)).toBe(true);
    clock.advance(MINUTE);
    expect(await repos.notifications.markRead(id, user.id)).toBe(true);
    expect(await repos.notifications.markRead('missing', user.id)).toBe(false);
    expect((await repos.notifications.listForUser(user.id)).items.find((n) => n.id === id)?.read_at).toBe(
      readAt,
    );
    expect(await repos.notifications.countUnread(user.id)).toBe(1);
    expect(await repos.notifications.markAllRead(user.id)).toBe(1);
    expect(await repos.notifications.countUnread(user.id)).toBe(0);
  });

  it('hands out due deliveries and records attempts with their retry time', async () => {
    const { repos, clock } = store();
    const user = await createUser(repos, 'a@x.io');
    const [first, second] = await repos.notifications.create([
      notification(user.id, { telegram_status: 'pending', ws_status: 'pending' }),
      notification(user.id, { ws_status: 'pending' }),
      notification(user.id),
    ]);
    const retryAt = clock.isoIn(30_000);

    const due = await repos.notifications.dueDeliveries(clock.iso());
    await repos.notifications.recordDelivery(first?.id ?? '', {
      ws_status: 'sent',
      next_attempt_at: retryAt,
      last_error: 'telegram: 502',
    });
    await repos.notifications.recordDelivery(second?.id ?? '', {
      ws_status: 'skipped',
      next_attempt_at: null,
      last_error: null,
    });

    expect(due.map((n) => n.id).sort()).toEqual([first?.id, second?.id].sort());
    expect(await repos.notifications.dueDeliveries(clock.iso())).toEqual([]);
    const retried = await repos.notifications.dueDeliveries(retryAt);
    expect(retried).toEqual([
      expect.objectContaining({
        id: first?.id,
        telegram_status: 'pending',
        ws_status: 'sent',
        attempts: 1,
        last_error: 'telegram: 502',
      }),
    ]);
  });

  it('prunes notifications older than the retention period', async () => {
    const { repos, clock } = store();
    const user = await createUser(repos, 'a@x.io');
    await repos.notifications.create([notification(user.id, { title: 'old' })]);
    clock.advance(91 * DAY);
    await repos.notifications.create([notification(user.id, { title: 'new' })]);

    expect(await repos.notifications.pruneOlderThan(90)).toBe(1);
    expect((await repos.notifications.listForUser(user.id)).items.map((n) => n.title)).toEqual(['new']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notifyUsers } from '../../../src/core/notifications/notify.js';
import { notificationServices } from '../../../src/runtime/notifications.js';
import { DISPATCH_TOKEN, FakeNotificationReceivers } from '../../fakes/notification-receivers.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

describe('notifications inbox (/api/notifications)', () => {
  let server: TestServer;
  let receivers: FakeNotificationReceivers;
  let ann: TestUser;
  let bob: TestUser;

  const notify = (user: TestUser, title: string, sourceKind: 'alert' | 'access_request' = 'alert') =>
    notifyUsers(server.ctx.repos, server.ctx.config, [user.id], {
      title,
      message: `${title} happened`,
      sourceKind,
      sourceId: `${title}-source`,
    });

  beforeAll(async () => {
    receivers = await FakeNotificationReceivers.start();
    server = await withServer({
      config: {
        notifications: { dispatch_token: DISPATCH_TOKEN },
        telegram: { dispatch_url: receivers.telegram.url },
        ws_gateway: { dispatch_url: receivers.gateway.url, public_url: 'ws://127.0.0.1:1/ws' },
      },
      services: notificationServices,
      startServices: true,
    });
    [ann, bob] = await Promise.all([createUser(server.ctx, 'viewer'), createUser(server.ctx, 'analyst')]);
    await server.ctx.repos.telegram.link(ann.id, 1001, 'ann');
    receivers.online.set(ann.id, 1);
  });
  afterAll(async () => {
    await server.close();
    await receivers.close();
  });

  it('lists only the caller’s notifications, newest first, with delivery status and the unread count', async () => {
    // Apart by a few milliseconds: notifications of the same instant have no defined order.
    for (const title of ['first', 'second', 'third']) {
      await notify(ann, title);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await notify(bob, 'for bob');
    // The dispatcher inside the app delivers them without anyone asking.
    const deadline = Date.now() + 10_000;
    while (
      (await server.ctx.repos.notifications.dueDeliveries('9999-12-31T00:00:00.000Z')).length > 0 &&
      Date.now() < deadline
    )
      await new Promise((resolve) => setTimeout(resolve, 20));

    const page = await call(server, 'GET', '/api/notifications?per_page=2', { auth: ann.auth });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ unread_count: 3, total: 3, page: 1, per_page: 2 });
    expect(page.body.items.map((n: { title: string }) => n.title)).toEqual(['third', 'second']);
    expect(page.body.items[0]).toEqual({
      id: expect.any(String),
      title: 'third',
      message: 'third happened',
      source_kind: 'alert',
      source_id: 'third-source',
      created_at: expect.stringMatching(/Z$/),
      read_at: null,
      telegram_status: 'sent',
      ws_status: 'sent',
    });
    const next = await call(server, 'GET', '/api/notifications?per_page=2&page=2', { auth: ann.auth });
    expect(next.body.items.map((n: { title: string }) => n.title)).toEqual(['first']);
    // Bob has no Telegram link and no open socket.
    const bobs = await call(server, 'GET', '/api/notifications', { auth: bob.auth });
    expect(bobs.body.items).toEqual([
      expect.objectContaining({ title: 'for bob', telegram_status: 'skipped', ws_status: 'skipped' }),
    ]);
    expect(receivers.sentMessages.map((m) => m.chat_id)).toEqual([1001, 1001, 1001]);
  });

  it('marks one of the caller’s own notifications read, and answers 404 for anyone else’s', async () => {
    const [mine] = await notify(ann, 'to read', 'access_request');
    const [theirs] = await notify(bob, 'not yours');

    expect(
      (await call(server, 'POST', `/api/notifications/${theirs!.id}/read`, { auth: ann.auth })).status,
    ).toBe(404);
    expect(
      (await call(server, 'POST', '/api/notifications/no-such-id/read', { auth: ann.auth })).status,
    ).toBe(404);
    const read = await call(server, 'POST', `/api/notifications/${mine!.id}/read`, { auth: ann.auth });
    expect(read.status).toBe(204);
    expect(read.text).toBe('');
    expect(
      (await call(server, 'POST', `/api/notifications/${mine!.id}/read`, { auth: ann.auth })).status,
    ).toBe(204);

    const unread = await call(server, 'GET', '/api/notifications?unread=true', { auth: ann.auth });
    expect(unread.body.items.map((n: { id: string }) => n.id)).not.toContain(mine!.id);
    const all = await call(server, 'GET', '/api/notifications', { auth: ann.auth });
    expect(all.body.items.find((n: { id: string }) => n.id === mine!.id)).toMatchObject({
      source_kind: 'access_request',
      read_at: expect.stringMatching(/Z$/),
    });
    const bobs = await call(server, 'GET', '/api/notifications?unread=true', { auth: bob.auth });
    expect(bobs.body.items.map((n: { id: string }) => n.id)).toContain(theirs!.id);
  });

  it('marks all the caller’s notifications read and says how many changed', async () => {
    const before = await call(server, 'GET', '/api/notifications', { auth: ann.auth });
    const bobBefore = await call(server, 'GET', '/api/notifications', { auth: bob.auth });

    const first = await call(server, 'POST', '/api/notifications/read-all', { auth: ann.auth });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ updated: before.body.unread_count });
    expect(first.body.updated).toBeGreaterThan(0);
    expect((await call(server, 'POST', '/api/notifications/read-all', { auth: ann.auth })).body).toEqual({
      updated: 0,
    });
    expect((await call(server, 'GET', '/api/notifications', { auth: ann.auth })).body.unread_count).toBe(0);
    expect((await call(server, 'GET', '/api/notifications', { auth: bob.auth })).body.unread_count).toBe(
      bobBefore.body.unread_count,
    );
  });

  it('refuses anonymous callers and malformed filters', async () => {
    expect((await call(server, 'GET', '/api/notifications')).status).toBe(401);
    expect((await call(server, 'POST', '/api/notifications/read-all')).status).toBe(401);
    const bad = await call(server, 'GET', '/api/notifications?unread=maybe', { auth: ann.auth });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBeDefined();
  });
});

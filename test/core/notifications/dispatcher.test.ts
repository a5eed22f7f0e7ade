import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type InstanceConfig, loadConfig } from '../../../src/core/config/index.js';
import type { Logger } from '../../../src/core/jobs/logger.js';
import {
  MAX_ATTEMPTS,
  NotificationDispatcher,
  retryDelaySeconds,
} from '../../../src/core/notifications/dispatcher.js';
import { type NotificationMessage, notifyUsers } from '../../../src/core/notifications/notify.js';
import { onNotificationsQueued } from '../../../src/core/notifications/outbox-signal.js';
import type { Notification, User } from '../../../src/core/state/repositories/index.js';
import { DISPATCH_TOKEN, FakeNotificationReceivers } from '../../fakes/notification-receivers.js';
import { createUser, DAY, useFreshStore } from '../state/repositories/fresh-store.js';

/**
 * The outbox dispatcher against real loopback receivers (the Telegram bot's `/send`, the gateway's
 * `/dispatch`), a real state store and a clock moved by hand (08 §8, §9).
 */

const SECOND = 1000;
let defaults: InstanceConfig;
let receivers: FakeNotificationReceivers;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agnes-dispatch-config-'));
  defaults = loadConfig({ env: {}, cwd: dir }).config;
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  receivers = await FakeNotificationReceivers.start();
});
afterEach(async () => receivers.close());

type Overrides = { token?: string | undefined; telegramUrl?: string; gatewayUrl?: string };

function configWith(overrides: Overrides = {}): InstanceConfig {
  const token = 'token' in overrides ? overrides.token : DISPATCH_TOKEN;
  return {
    ...defaults,
    notifications: { ...defaults.notifications, dispatch_token: token, retry_base_seconds: 30 },
    telegram: { ...defaults.telegram, dispatch_url: overrides.telegramUrl ?? receivers.telegram.url },
    ws_gateway: {
      ...defaults.ws_gateway,
      dispatch_url: overrides.gatewayUrl ?? receivers.gateway.url,
      public_url: 'ws://127.0.0.1:1/ws',
    },
  };
}

function recordingLog(lines: string[]): Logger {
  const write = (fields: object, message?: string) =>
    void lines.push(`${message ?? ''} ${JSON.stringify(fields)}`);
  return { info: write, warn: write, error: write, debug: write };
}

describe('NotificationDispatcher', () => {
  const store = useFreshStore();
  let dispatchers: NotificationDispatcher[] = [];
  afterEach(async () => {
    await Promise.all(dispatchers.map((d) => d.stop()));
    dispatchers = [];
  });

  function setup(overrides: Overrides = {}, options: { pollMs?: number; logs?: string[] } = {}) {
    const { repos, clock } = store();
    const config = configWith(overrides);
    const dispatcher = new NotificationDispatcher({
      repos,
      config,
      clock,
      log: recordingLog(options.logs ?? []),
      requestTimeoutMs: 2_000,
      ...(options.pollMs ? { pollMs: options.pollMs } : {}),
    });
    dispatchers.push(dispatcher);
    const notify = async (users: User[], message: Partial<NotificationMessage> = {}) =>
      notifyUsers(
        repos,
        config,
        users.map((u) => u.id),
        {
          title: 'Orders dropped',
          message: 'Fewer than 10 orders today',
          sourceKind: 'alert',
          sourceId: 'a1',
          ...message,
        },
      );
    const row = async (id: string): Promise<Notification> => {
      const found = await store()
        .db.selectFrom('notifications')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      if (!found) throw new Error(`no notification ${id}`);
      return found;
    };
    return { repos, clock, config, dispatcher, notify, row };
  }

  it('sends to the linked chat and the user’s sockets, and marks both channels sent', async () => {
    const { repos, dispatcher, notify, row } = setup();
    const user = await createUser(repos, 'ann@example.com');
    await repos.telegram.link(user.id, 4242, 'ann');
    receivers.online.set(user.id, 2);
    const [created] = await notify([user]);

    await dispatcher.runOnce();

    expect(await row(created!.id)).toMatchObject({
      telegram_status: 'sent',
      ws_status: 'sent',
      attempts: 1,
      next_attempt_at: null,
      last_error: null,
    });
    const [send] = receivers.telegram.requests;
    expect(send?.headers.authorization).toBe(`Bearer ${DISPATCH_TOKEN}`);
    expect(send?.body).toEqual({
      chat_id: 4242,
      text: '<b>Orders dropped</b>\nFewer than 10 orders today',
      parse_mode: 'HTML',
      notification_id: created!.id,
    });
    const [dispatch] = receivers.gateway.requests;
    expect(dispatch?.headers.authorization).toBe(`Bearer ${DISPATCH_TOKEN}`);
    expect(dispatch?.body).toEqual({
      user_ids: [user.id],
      notification: {
        id: created!.id,
        title: 'Orders dropped',
        message: 'Fewer than 10 orders today',
        source_kind: 'alert',
        source_id: 'a1',
        created_at: created!.created_at,
      },
    });

    await dispatcher.runOnce();
    expect(receivers.sendRequests).toEqual([created!.id]);
    expect(receivers.dispatchRequests).toEqual([created!.id]);
  });

  it('skips Telegram for a user without a link and the socket channel for an offline user', async () => {
    const { repos, dispatcher, notify, row } = setup();
    const user = await createUser(repos, 'bob@example.com');
    const [created] = await notify([user]);

    await dispatcher.runOnce();

    expect(await row(created!.id)).toMatchObject({ telegram_status: 'skipped', ws_status: 'skipped' });
    expect(receivers.sendRequests).toEqual([]);
    expect(receivers.dispatchRequests).toEqual([created!.id]);
  });

  it('marks Telegram failed for good when the bot answers 410, without retrying', async () => {
    const { repos, clock, dispatcher, notify, row } = setup();
    const user = await createUser(repos, 'cid@example.com');
    await repos.telegram.link(user.id, 77, null);
    receivers.blockedChats.add(77);
    receivers.online.set(user.id, 1);
    const [created] = await notify([user]);

    await dispatcher.runOnce();
    clock.advance(DAY);
    await dispatcher.runOnce();

    expect(await row(created!.id)).toMatchObject({
      telegram_status: 'failed',
      ws_status: 'sent',
      next_attempt_at: null,
      last_error: 'telegram: chat unreachable',
    });
    expect(receivers.sendRequests).toEqual([created!.id]);
  });

  it('retries a 502 after retry_base_seconds and a dropped connection after the next step', async () => {
    const { repos, clock, dispatcher, notify, row } = setup();
    const user = await createUser(repos, 'dee@example.com');
    await repos.telegram.link(user.id, 5, null);
    receivers.telegramFaults.push({ status: 502, times: 1 }, { drop: true, times: 1 });
    const [created] = await notify([user], { channels: ['telegram'] });

    await dispatcher.runOnce();
    expect(await row(created!.id)).toMatchObject({
      telegram_status: 'pending',
      ws_status: 'skipped',
      attempts: 1,
      next_attempt_at: clock.isoIn(30 * SECOND),
      last_error: 'telegram: status 502',
    });
    clock.advance(29 * SECOND);
    await dispatcher.runOnce();
    expect(receivers.sendRequests).toHaveLength(1);

    clock.advance(SECOND);
    await dispatcher.runOnce();
    expect(await row(created!.id)).toMatchObject({
      telegram_status: 'pending',
      attempts: 2,
      next_attempt_at: clock.isoIn(120 * SECOND),
      last_error: 'telegram: connection',
    });

    clock.advance(120 * SECOND);
    await dispatcher.runOnce();
    expect(await row(created!.id)).toMatchObject({
      telegram_status: 'sent',
      attempts: 3,
      next_attempt_at: null,
      last_error: null,
    });
    expect(receivers.sentMessages.map((m) => m.notification_id)).toEqual([created!.id]);
  });

  it('gives up after 30 s, 2 min, 10 min, 30 min and 2 h of retries', async () => {
    const { repos, clock, dispatcher, notify, row } = setup();
    const user = await createUser(repos, 'eve@example.com');
    await repos.telegram.link(user.id, 6, null);
    receivers.telegramFaults.push({ status: 502, times: Number.POSITIVE_INFINITY });
    receivers.gatewayFaults.push({ status: 500, times: Number.POSITIVE_INFINITY });
    const [created] = await notify([user]);

    const waits: number[] = [];
    await dispatcher.runOnce();
    for (;;) {
      const current = await row(created!.id);
      if (current.next_attempt_at === null) break;
      const wait = Date.parse(current.next_attempt_at) - clock.now().getTime();
      waits.push(wait / SECOND);
      clock.advance(wait);
      await dispatcher.runOnce();
    }

    expect(waits).toEqual([30, 120, 600, 1800, 7200]);
    expect(MAX_ATTEMPTS).toBe(6);
    expect(retryDelaySeconds(6, 30)).toBeNull();
    expect(await row(created!.id)).toMatchObject({
      telegram_status: 'failed',
      ws_status: 'failed',
      attempts: 6,
      last_error: 'telegram: status 502; websocket: status 500',
    });
    expect(receivers.sendRequests).toHaveLength(6);
    expect(receivers.dispatchRequests).toHaveLength(6);
  });

  it('skips a channel whose URL or dispatch token is not configured, calling nobody', async () => {
    const first = setup({ token: undefined });
    const user = await createUser(first.repos, 'fay@example.com');
    await first.repos.telegram.link(user.id, 8, null);
    receivers.online.set(user.id, 1);
    // Created while configured; the dispatcher's own configuration has no token.
    const [created] = await notifyUsers(first.repos, configWith(), [user.id], {
      title: 'T',
      message: 'M',
      sourceKind: 'system',
      sourceId: null,
    });
    await first.dispatcher.runOnce();
    expect(await first.row(created!.id)).toMatchObject({ telegram_status: 'skipped', ws_status: 'skipped' });

    const second = setup({ telegramUrl: '', gatewayUrl: '' });
    const [again] = await notifyUsers(second.repos, configWith(), [user.id], {
      title: 'T',
      message: 'M',
      sourceKind: 'system',
      sourceId: null,
    });
    await second.dispatcher.runOnce();
    expect(await second.row(again!.id)).toMatchObject({ telegram_status: 'skipped', ws_status: 'skipped' });
    expect(receivers.telegram.requests).toEqual([]);
    expect(receivers.gateway.requests).toEqual([]);

    // Without a token nothing is even queued.
    const [unqueued] = await notifyUsers(first.repos, configWith({ token: undefined }), [user.id], {
      title: 'T',
      message: 'M',
      sourceKind: 'system',
      sourceId: null,
    });
    expect(unqueued).toMatchObject({
      telegram_status: 'skipped',
      ws_status: 'skipped',
      next_attempt_at: null,
    });
  });

  it('sends escaped text cut to Telegram’s limit, and never logs the text or the token', async () => {
    const logs: string[] = [];
    const { repos, dispatcher, notify } = setup({}, { logs });
    const user = await createUser(repos, 'gus@example.com');
    await repos.telegram.link(user.id, 9, null);
    receivers.gatewayFaults.push({ status: 503, times: 1 });
    const secretish = 'SECRET-MESSAGE-TEXT';
    await notify([user], {
      title: '<i>Sales & returns</i>',
      message: `${secretish} <script>x</script> ${'w'.repeat(5000)}`,
    });

    await dispatcher.runOnce();

    const [message] = receivers.sentMessages;
    expect(message?.text.startsWith('<b>&lt;i&gt;Sales &amp; returns&lt;/i&gt;</b>\n')).toBe(true);
    expect(message?.text).toContain('&lt;script&gt;x&lt;/script&gt;');
    expect(message?.text).toHaveLength(4094);
    expect(message?.text.endsWith('w…')).toBe(true);
    expect(logs.join('\n')).toContain('websocket: status 503');
    expect(logs.join('\n')).not.toContain(secretish);
    expect(logs.join('\n')).not.toContain(DISPATCH_TOKEN);
  });

  it('is woken by new notifications at once, not only by its poll', async () => {
    const { repos, dispatcher, notify } = setup({}, { pollMs: 3_600_000 });
    const user = await createUser(repos, 'hal@example.com');
    receivers.online.set(user.id, 1);
    dispatcher.start();
    await new Promise((resolve) => setTimeout(resolve, 50));

    const [created] = await notify([user], { channels: ['websocket'] });
    const deadline = Date.now() + 5_000;
    while (receivers.pushed.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));

    expect(receivers.pushed.map((d) => d.notification.id)).toEqual([created!.id]);
  });

  it('is woken only once the transaction that created the notification commits, never after a rollback', async () => {
    const { repos, config } = setup();
    const user = await createUser(repos, 'ida@example.com');
    let wakes = 0;
    const unsubscribe = onNotificationsQueued(() => {
      wakes += 1;
    });
    try {
      const message = { title: 't', message: 'm', sourceKind: 'alert', sourceId: null } as const;
      await repos.transaction(async (trx) => {
        await notifyUsers(trx, config, [user.id], message);
        await trx.transaction(async (inner) => notifyUsers(inner, config, [user.id], message));
        expect(wakes).toBe(0);
      });
      expect(wakes).toBe(2);

      await expect(
        repos.transaction(async (trx) => {
          await notifyUsers(trx, config, [user.id], message);
          throw new Error('rolled back');
        }),
      ).rejects.toThrow('rolled back');
      expect(wakes).toBe(2);

      await notifyUsers(repos, config, [user.id], message);
      expect(wakes).toBe(3);
    } finally {
      unsubscribe();
    }
  });
  it('delivers a row a crashed run had claimed once its claim lapses', async () => {
    const { repos, clock, dispatcher, notify, row } = setup();
    const user = await createUser(repos, 'ivy@example.com');
    receivers.online.set(user.id, 1);
    const [created] = await notify([user], { channels: ['websocket'] });
    // A run that claimed the row and died before recording anything.
    expect(await repos.notifications.claim(created!, clock.isoIn(30 * SECOND))).toBe(true);
    expect(await repos.notifications.claim(created!, clock.isoIn(30 * SECOND))).toBe(false);

    await dispatcher.runOnce();
    expect(receivers.dispatchRequests).toEqual([]);

    clock.advance(30 * SECOND);
    await dispatcher.runOnce();
    expect(await row(created!.id)).toMatchObject({ ws_status: 'sent', attempts: 1 });
    expect(receivers.dispatchRequests).toEqual([created!.id]);
  });

  it('stops after the batch in flight, leaving the rest due for the next start', async () => {
    const { repos, dispatcher, notify } = setup();
    const users = await Promise.all(
      Array.from({ length: 20 }, (_, i) => createUser(repos, `slow${i}@example.com`)),
    );
    for (const user of users) receivers.online.set(user.id, 1);
    receivers.gatewayFaults.push({ delayMs: 500, times: Number.POSITIVE_INFINITY });
    await notify(users, { channels: ['websocket'] });
    dispatcher.start();
    const deadline = Date.now() + 5_000;
    while (receivers.gateway.requests.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));

    const started = Date.now();
    await dispatcher.stop();

    expect(Date.now() - started).toBeLessThan(1_500);
    expect(receivers.dispatchRequests).toHaveLength(8);
    const rows = await store().db.selectFrom('notifications').select(['ws_status', 'attempts']).execute();
    expect(rows.filter((r) => r.ws_status === 'sent')).toHaveLength(8);
    expect(rows.filter((r) => r.ws_status === 'pending' && r.attempts === 0)).toHaveLength(12);
  });
});

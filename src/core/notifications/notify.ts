import type { InstanceConfig } from '../config/index.js';
import type { Notification, Repositories } from '../state/repositories/index.js';
import { notificationsQueued } from './outbox-signal.js';

export type NotificationChannel = 'telegram' | 'websocket';

export interface NotificationMessage {
  title: string;
  message: string;
  /** What raised it: an alert, a script, or the app itself. */
  sourceKind: Notification['source_kind'];
  /** What the notification is about, e.g. an alert or access request id. */
  sourceId: string | null;
  /** The channels wanted besides the inbox; all by default. An alert names its own. */
  channels?: readonly NotificationChannel[];
}

/**
 * Inbox notifications (08 §8): one row per recipient, created in the caller's transaction when it
 * passes transaction-bound repositories, so a notification exists exactly when the change it
 * reports does. A channel is left `pending` for the dispatcher only when it is wanted and its
 * dispatch is configured; otherwise it is `skipped` from the start. Telegram needs no bot token in
 * the app (the bot holds it): the dispatcher skips users without a link at delivery.
 */
export async function notifyUsers(
  repos: Repositories,
  config: InstanceConfig,
  userIds: readonly string[],
  message: NotificationMessage,
): Promise<Notification[]> {
  const wanted = new Set<NotificationChannel>(message.channels ?? ['telegram', 'websocket']);
  const dispatch = Boolean(config.notifications.dispatch_token);
  const telegram =
    dispatch && wanted.has('telegram') && config.telegram.dispatch_url !== '' ? 'pending' : 'skipped';
  const websocket =
    dispatch && wanted.has('websocket') && config.ws_gateway.public_url !== '' ? 'pending' : 'skipped';
  const created = await repos.notifications.create(
    [...new Set(userIds)].map((userId) => ({
      user_id: userId,
      title: message.title,
      message: message.message,
      source_kind: message.sourceKind,
      source_id: message.sourceId,
      telegram_status: telegram,
      ws_status: websocket,
    })),
  );
  if (created.length > 0 && (telegram === 'pending' || websocket === 'pending'))
    repos.afterCommit(notificationsQueued);
  return created;
}

/** Ids of every active admin, for notifications that need one of them to act. */
export async function activeAdminIds(repos: Repositories): Promise<string[]> {
  const ids: string[] = [];
  for (let page = 1; ; page += 1) {
    const batch = await repos.users.list({ role: 'admin', active: true }, { page, per_page: 200 });
    ids.push(...batch.items.map((u) => u.id));
    if (ids.length >= batch.total || batch.items.length === 0) return ids;
  }
}

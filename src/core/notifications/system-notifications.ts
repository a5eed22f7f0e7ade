import type { InstanceConfig } from '../config/index.js';
import type { Notification, Repositories } from '../state/repositories/index.js';

export interface SystemMessage {
  title: string;
  message: string;
  /** What the notification is about, e.g. an access request id. */
  sourceId: string | null;
}

/**
 * Inbox notifications from the app itself (`source_kind = 'system'`, 08 §8): one row per
 * recipient; a channel is left to the dispatcher only when its dispatch is configured.
 * Pass transaction-bound repositories to create them with the change they report.
 */
export function notifyUsers(
  repos: Repositories,
  config: InstanceConfig,
  userIds: readonly string[],
  message: SystemMessage,
): Promise<Notification[]> {
  const dispatch = Boolean(config.notifications.dispatch_token);
  const telegram = dispatch && config.telegram.bot_token ? 'pending' : 'skipped';
  const websocket = dispatch && config.ws_gateway.public_url !== '' ? 'pending' : 'skipped';
  return repos.notifications.create(
    [...new Set(userIds)].map((userId) => ({
      user_id: userId,
      title: message.title,
      message: message.message,
      source_kind: 'system' as const,
      source_id: message.sourceId,
      telegram_status: telegram,
      ws_status: websocket,
    })),
  );
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

import type { NotificationList } from '../../contract/index.js';
import { AgnesError } from '../errors.js';
import type { Notification, PageRequest, Repositories } from '../state/repositories/index.js';
import { pageFields } from '../state/repositories/paginate.js';

/** A user's inbox (03 §17), for the API and the Notifications tab alike: only ever their own rows. */

function view(row: Notification): NotificationList['items'][number] {
  return {
    id: row.id,
    title: row.title,
    message: row.message,
    source_kind: row.source_kind,
    source_id: row.source_id,
    created_at: row.created_at,
    read_at: row.read_at,
    telegram_status: row.telegram_status,
    ws_status: row.ws_status,
  };
}

/** Newest first, with the count of all unread ones (the bell's number). */
export async function listInbox(
  repos: Pick<Repositories, 'notifications'>,
  userId: string,
  filter: { unread?: boolean },
  page: PageRequest,
): Promise<NotificationList> {
  const [found, unread] = await Promise.all([
    repos.notifications.listForUser(userId, filter, page),
    repos.notifications.countUnread(userId),
  ]);
  return { items: found.items.map(view), unread_count: unread, ...pageFields(found) };
}

/** Marks one of the user's notifications read; anyone else's is not found (never 403). */
export async function markNotificationRead(
  repos: Pick<Repositories, 'notifications'>,
  userId: string,
  id: string,
): Promise<void> {
  if (!(await repos.notifications.markRead(id, userId)))
    throw new AgnesError('not_found', 'notification not found');
}

export async function markAllNotificationsRead(
  repos: Pick<Repositories, 'notifications'>,
  userId: string,
): Promise<{ updated: number }> {
  return { updated: await repos.notifications.markAllRead(userId) };
}

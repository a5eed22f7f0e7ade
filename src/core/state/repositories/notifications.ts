import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import type { Database, DeliveryStatus, NotificationsTable } from '../schema.js';
import { type Page, type PageRequest, paginate } from './paginate.js';
import { retentionCutoff } from './retention.js';

export type Notification = Selectable<NotificationsTable>;

export interface NewNotification {
  user_id: string;
  title: string;
  message: string;
  source_kind: Notification['source_kind'];
  source_id?: string | null;
  /** `pending` to deliver on that channel, `skipped` when it is not configured or not wanted. */
  telegram_status: DeliveryStatus;
  ws_status: DeliveryStatus;
}

export interface DeliveryOutcome {
  telegram_status?: DeliveryStatus;
  ws_status?: DeliveryStatus;
  /** When to retry a channel still `pending`; null when nothing is left to deliver. */
  next_attempt_at: string | null;
  last_error: string | null;
}

/** The inbox and the delivery outbox (08-services.md §8) in one table. */
export function createNotificationsRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    /** One row per recipient in one statement (all or none); due at once when a channel is pending. */
    async create(inputs: readonly NewNotification[]): Promise<Notification[]> {
      if (inputs.length === 0) return [];
      const now = nowIso(clock);
      const rows = inputs.map((input) => ({
        ...input,
        id: randomUUID(),
        source_id: input.source_id ?? null,
        created_at: now,
        attempts: 0,
        next_attempt_at: input.telegram_status === 'pending' || input.ws_status === 'pending' ? now : null,
      }));
      return db.insertInto('notifications').values(rows).returningAll().execute();
    },

    /** Newest first. */
    listForUser(
      userId: string,
      filter: { unread?: boolean } = {},
      page?: PageRequest,
    ): Promise<Page<Notification>> {
      let query = db
        .selectFrom('notifications')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc');
      if (filter.unread) query = query.where('read_at', 'is', null);
      return paginate(query, page);
    },

    /** True when the notification is the user's (read before or now); false means 404. */
    async markRead(id: string, userId: string): Promise<boolean> {
      const result = await db
        .updateTable('notifications')
        .set((eb) => ({ read_at: eb.fn.coalesce('read_at', eb.val(nowIso(clock))) }))
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    async markAllRead(userId: string): Promise<number> {
      const result = await db
        .updateTable('notifications')
        .set({ read_at: nowIso(clock) })
        .where('user_id', '=', userId)
        .where('read_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async countUnread(userId: string): Promise<number> {
      const row = await db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('user_id', '=', userId)
        .where('read_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Rows with a channel still pending whose retry time has come, oldest first. */
    dueDeliveries(now: string, limit = 100): Promise<Notification[]> {
      return db
        .selectFrom('notifications')
        .selectAll()
        .where((eb) => eb.or([eb('telegram_status', '=', 'pending'), eb('ws_status', '=', 'pending')]))
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .orderBy('id')
        .limit(limit)
        .execute();
    },

    /**
     * Takes a due row for one delivery attempt by moving its retry time to `leaseUntil`, only if
     * nobody changed it since `row` was read; false when another dispatcher was first. A crash
     * mid-attempt leaves the row to be retried once the lease passes.
     */
    async claim(
      row: Pick<Notification, 'id' | 'attempts' | 'next_attempt_at'>,
      leaseUntil: string,
    ): Promise<boolean> {
      if (row.next_attempt_at === null) return false;
      const result = await db
        .updateTable('notifications')
        .set({ next_attempt_at: leaseUntil })
        .where('id', '=', row.id)
        .where('attempts', '=', row.attempts)
        .where('next_attempt_at', '=', row.next_attempt_at)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Records one delivery attempt; channels left out keep their status. */
    async recordDelivery(id: string, outcome: DeliveryOutcome): Promise<void> {
      await db
        .updateTable('notifications')
        .set((eb) => ({ ...outcome, attempts: eb('attempts', '+', 1) }))
        .where('id', '=', id)
        .execute();
    },

    async pruneOlderThan(retentionDays: number): Promise<number> {
      const result = await db
        .deleteFrom('notifications')
        .where('created_at', '<', retentionCutoff(clock, retentionDays))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type NotificationsRepository = ReturnType<typeof createNotificationsRepository>;

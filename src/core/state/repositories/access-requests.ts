import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable, Updateable } from 'kysely';
import { AgnesError } from '../../errors.js';
import { type Clock, nowIso, systemClock } from '../../time.js';
import type { AccessRequestStatus, AccessRequestsTable, Database } from '../schema.js';
import { translateViolations } from './constraint-errors.js';
import { type Page, type PageRequest, paginate } from './paginate.js';

export type AccessRequest = Selectable<AccessRequestsTable>;

export interface NewAccessRequest {
  user_id: string;
  user_email: string;
  table_id: string;
  reason?: string | null;
}

export interface AccessReview {
  status: 'approved' | 'denied';
  reviewer: string;
  note?: string | null;
}

export interface AccessRequestFilter {
  status?: AccessRequestStatus;
  user_id?: string;
}

/**
 * Requests move `pending` → `approved` | `denied` | `cancelled` and never back. Approving does
 * not grant: run `review` and `permissions.grantUser` in one transaction.
 */
export function createAccessRequestsRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  const get = (id: string): Promise<AccessRequest | undefined> =>
    db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirst();

  /**
   * The status condition is part of the UPDATE, so of two concurrent transitions exactly one
   * matches the row; the other learns the status it lost to.
   */
  async function leavePending(
    id: string,
    changes: Updateable<AccessRequestsTable>,
    ownerId?: string,
  ): Promise<AccessRequest> {
    let update = db
      .updateTable('access_requests')
      .set(changes)
      .where('id', '=', id)
      .where('status', '=', 'pending');
    if (ownerId !== undefined) update = update.where('user_id', '=', ownerId);
    const updated = await update.returningAll().executeTakeFirst();
    if (updated) return updated;
    const current = await get(id);
    if (!current || (ownerId !== undefined && current.user_id !== ownerId)) {
      throw new AgnesError('not_found', 'access request not found');
    }
    throw new AgnesError('conflict', `access request is ${current.status}, not pending`);
  }

  return {
    create(input: NewAccessRequest): Promise<AccessRequest> {
      const insert = db
        .insertInto('access_requests')
        .values({ ...input, id: randomUUID(), status: 'pending', created_at: nowIso(clock) })
        .returningAll()
        .executeTakeFirstOrThrow();
      // The partial unique index allows one pending request per user and table, atomically.
      return translateViolations(insert, {
        unique: 'a pending request for this table already exists',
        foreignKey: 'user not found',
      });
    },

    get,

    /** Newest first. */
    list(filter: AccessRequestFilter = {}, page?: PageRequest): Promise<Page<AccessRequest>> {
      let query = db
        .selectFrom('access_requests')
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc');
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.user_id !== undefined) query = query.where('user_id', '=', filter.user_id);
      return paginate(query, page);
    },

    async countPendingByUser(userId: string): Promise<number> {
      const row = await db
        .selectFrom('access_requests')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('user_id', '=', userId)
        .where('status', '=', 'pending')
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Unknown id → not_found; a request no longer pending → conflict naming its status. */
    review(id: string, review: AccessReview): Promise<AccessRequest> {
      return leavePending(id, {
        status: review.status,
        reviewed_by: review.reviewer,
        reviewed_at: nowIso(clock),
        review_note: review.note ?? null,
      });
    },

    /** Only the requester cancels; someone else's request is reported as not found. */
    cancel(id: string, userId: string): Promise<AccessRequest> {
      return leavePending(id, { status: 'cancelled' }, userId);
    },

    /** When a table is unregistered its pending requests can no longer be granted. */
    async cancelPendingForTable(tableId: string): Promise<number> {
      const result = await db
        .updateTable('access_requests')
        .set({ status: 'cancelled' })
        .where('table_id', '=', tableId)
        .where('status', '=', 'pending')
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type AccessRequestsRepository = ReturnType<typeof createAccessRequestsRepository>;

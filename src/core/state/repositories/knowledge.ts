import { randomUUID } from 'node:crypto';
import type { ExpressionBuilder, Kysely, Selectable, Updateable } from 'kysely';
import { AgnesError } from '../../errors.js';
import { type Clock, nowIso, systemClock } from '../../time.js';
import { type Database, type KnowledgeItemsTable, type KnowledgeStatus, toJson } from '../schema.js';
import { isIn } from './in-list.js';
import { type Page, type PageRequest, paginate } from './paginate.js';
import { containsText } from './text-search.js';

export type KnowledgeItem = Selectable<KnowledgeItemsTable>;
export type Vote = -1 | 1;

export interface NewKnowledgeItem {
  title: string;
  content: string | null;
  category: string | null;
  tags: string[];
  status: KnowledgeStatus;
  contributors: string[];
  source_user: string | null;
  /** `all` (default) or `group:<group_id>`. */
  audience?: string;
  content_hash: string | null;
  origin: 'manual' | 'collector';
}

export interface KnowledgeEdit {
  title?: string;
  content?: string | null;
  category?: string | null;
  tags?: string[];
  audience?: string;
  contributors?: string[];
  content_hash?: string | null;
}

export interface KnowledgeTransition {
  /** Statuses the item may be in; the governance table (08-services.md §4.2) decides them. */
  from: readonly KnowledgeStatus[];
  to: KnowledgeStatus;
  actor: string;
  reason?: string | null;
  /** Set with approve and mandate: when the item falls due for review. */
  review_by?: string | null;
  audience?: string;
}

export interface KnowledgeFilter {
  status?: readonly KnowledgeStatus[];
  category?: string;
  audience?: readonly string[];
  /** Substring of title or content. */
  search?: string;
  source_user?: string;
  /** A non-km user's view: approved and mandatory items for one of `audiences`, plus their own items. */
  visible_to?: { user_id: string; audiences: readonly string[] };
}

export interface KnowledgeOrder {
  sort: 'updated_at' | 'created_at' | 'title' | 'score';
  order: 'asc' | 'desc';
}

export interface VoteTally {
  upvotes: number;
  downvotes: number;
  score: number;
}

const PUBLISHED: readonly KnowledgeStatus[] = ['approved', 'mandatory'];
const NEWEST: KnowledgeOrder = { sort: 'updated_at', order: 'desc' };

function scoreOf(eb: ExpressionBuilder<Database, 'knowledge_items'>) {
  return eb
    .selectFrom('knowledge_votes')
    .select((votes) => votes.fn.coalesce(votes.fn.sum<number>('vote'), votes.lit(0)).as('score'))
    .whereRef('knowledge_votes.item_id', '=', 'knowledge_items.id');
}

function editColumns(edit: KnowledgeEdit): Updateable<KnowledgeItemsTable> {
  const { tags, contributors, ...plain } = edit;
  return {
    ...plain,
    tags: tags === undefined ? undefined : toJson(tags),
    contributors: contributors === undefined ? undefined : toJson(contributors),
  };
}

/** Corporate memory items and their votes. */
export function createKnowledgeRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  const get = (id: string): Promise<KnowledgeItem | undefined> =>
    db.selectFrom('knowledge_items').selectAll().where('id', '=', id).executeTakeFirst();

  return {
    create(input: NewKnowledgeItem): Promise<KnowledgeItem> {
      const now = nowIso(clock);
      return db
        .insertInto('knowledge_items')
        .values({
          audience: 'all',
          ...input,
          id: randomUUID(),
          tags: toJson(input.tags),
          contributors: toJson(input.contributors),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    get,

    findByContentHash(contentHash: string): Promise<KnowledgeItem | undefined> {
      return db
        .selectFrom('knowledge_items')
        .selectAll()
        .where('content_hash', '=', contentHash)
        .orderBy('created_at')
        .orderBy('id')
        .executeTakeFirst();
    },

    /** Every item's id, title and content hash, newest first: what an import deduplicates against. */
    identities(): Promise<Pick<KnowledgeItem, 'id' | 'title' | 'content_hash'>[]> {
      return db
        .selectFrom('knowledge_items')
        .select(['id', 'title', 'content_hash'])
        .orderBy('updated_at', 'desc')
        .orderBy('id')
        .execute();
    },

    /** A null `editor` is a system change (an import); a person's edit is stamped as such. */
    update(id: string, edit: KnowledgeEdit, editor: string | null): Promise<KnowledgeItem | undefined> {
      const now = nowIso(clock);
      const stamp = editor === null ? {} : { edited_by: editor, edited_at: now };
      return db
        .updateTable('knowledge_items')
        .set({ ...editColumns(edit), ...stamp, updated_at: now })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    /**
     * Moves an item only from one of `from`, checked in the UPDATE itself so concurrent governance
     * actions cannot both apply. Unknown id → not_found; any other status → conflict.
     */
    async transition(id: string, change: KnowledgeTransition): Promise<KnowledgeItem> {
      const now = nowIso(clock);
      const approval = PUBLISHED.includes(change.to)
        ? { approved_by: change.actor, approved_at: now, review_by: change.review_by ?? null }
        : {};
      const updated = await db
        .updateTable('knowledge_items')
        .set({
          ...approval,
          status: change.to,
          status_reason: change.reason ?? null,
          audience: change.audience,
          updated_at: now,
        })
        .where('id', '=', id)
        .where((eb) => isIn(eb, 'status', change.from))
        .returningAll()
        .executeTakeFirst();
      if (updated) return updated;
      const current = await get(id);
      if (!current) throw new AgnesError('not_found', 'knowledge item not found');
      throw new AgnesError('conflict', `cannot move a ${current.status} item to ${change.to}`);
    },

    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('knowledge_items').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    list(
      filter: KnowledgeFilter = {},
      page?: PageRequest,
      order: KnowledgeOrder = NEWEST,
    ): Promise<Page<KnowledgeItem>> {
      let query = db.selectFrom('knowledge_items').selectAll();
      const { status, category, audience, search, source_user, visible_to } = filter;
      if (status !== undefined) query = query.where((eb) => isIn(eb, 'status', status));
      if (category !== undefined) query = query.where('category', '=', category);
      if (audience !== undefined) query = query.where((eb) => isIn(eb, 'audience', audience));
      if (search) query = query.where((eb) => containsText(eb, ['title', 'content'], search));
      if (source_user !== undefined) query = query.where('source_user', '=', source_user);
      if (visible_to !== undefined) {
        query = query.where((eb) =>
          eb.or([
            eb('source_user', '=', visible_to.user_id),
            eb.and([isIn(eb, 'status', PUBLISHED), isIn(eb, 'audience', visible_to.audiences)]),
          ]),
        );
      }
      const sorted =
        order.sort === 'score'
          ? query.orderBy((eb) => scoreOf(eb), order.order)
          : query.orderBy(order.sort, order.order);
      return paginate(sorted.orderBy('id', order.order), page);
    },

    /** Approved and mandatory items past their review date become `expired` (maintenance). */
    async expireDue(): Promise<number> {
      const now = nowIso(clock);
      const result = await db
        .updateTable('knowledge_items')
        .set({ status: 'expired', updated_at: now })
        .where((eb) => isIn(eb, 'status', PUBLISHED))
        .where('review_by', '<=', now)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /** One vote per user and item; voting again replaces it. */
    async setVote(itemId: string, userId: string, vote: Vote): Promise<void> {
      const votedAt = nowIso(clock);
      await db
        .insertInto('knowledge_votes')
        .values({ item_id: itemId, user_id: userId, vote, voted_at: votedAt })
        .onConflict((oc) => oc.columns(['item_id', 'user_id']).doUpdateSet({ vote, voted_at: votedAt }))
        .execute();
    },

    async removeVote(itemId: string, userId: string): Promise<boolean> {
      const result = await db
        .deleteFrom('knowledge_votes')
        .where('item_id', '=', itemId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Tallies for the given items; an item nobody voted on gets zeros. */
    async tally(itemIds: readonly string[]): Promise<Map<string, VoteTally>> {
      const tallies = new Map(itemIds.map((id) => [id, { upvotes: 0, downvotes: 0, score: 0 }]));
      const rows = await db
        .selectFrom('knowledge_votes')
        .select((eb) => ['item_id', 'vote', eb.fn.countAll().as('n')])
        .where((eb) => isIn(eb, 'item_id', itemIds))
        .groupBy(['item_id', 'vote'])
        .execute();
      for (const row of rows) {
        const tally = tallies.get(row.item_id);
        if (!tally) continue;
        const n = Number(row.n);
        if (row.vote === 1) tally.upvotes = n;
        else tally.downvotes = n;
        tally.score = tally.upvotes - tally.downvotes;
      }
      return tallies;
    },

    /** The user's votes keyed by item id (`GET /api/memory/my-votes`). */
    async votesOfUser(userId: string): Promise<Record<string, Vote>> {
      const rows = await db
        .selectFrom('knowledge_votes')
        .select(['item_id', 'vote'])
        .where('user_id', '=', userId)
        .execute();
      return Object.fromEntries(rows.map((row) => [row.item_id, row.vote]));
    },
  };
}

export type KnowledgeRepository = ReturnType<typeof createKnowledgeRepository>;

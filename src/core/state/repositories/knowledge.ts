import { randomUUID } from 'node:crypto';
import {
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  type SqlBool,
  sql,
  type Updateable,
} from 'kysely';
import { AgnesError } from '../../errors.js';
import { type Clock, nowIso, systemClock } from '../../time.js';
import { toJson } from '../column-values.js';
import type { Database, KnowledgeItemsTable, KnowledgeStatus, MemoryItemRevisionsTable } from '../schema.js';
import { isIn } from './in-list.js';
import { inTransaction } from './in-transaction.js';
import { type Page, type PageRequest, paginate } from './paginate.js';
import { containsText } from './text-search.js';

export type KnowledgeItem = Selectable<KnowledgeItemsTable>;
export type MemoryItemRevision = Selectable<MemoryItemRevisionsTable>;
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
  /** Set when an item is published as it is created (`approval_mode: auto_publish`). */
  approved_at?: string;
  review_by?: string;
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
  ids?: readonly string[];
  status?: readonly KnowledgeStatus[];
  category?: string;
  audience?: readonly string[];
  /** Substring of title or content. */
  search?: string;
  source_user?: string;
  /** Items the user created or contributed to (`mine=true`). */
  involving?: string;
  /**
   * A non-km user's view (03 §13, 08 §4.3): approved and mandatory items for one of `audiences`,
   * plus, in any status but `expired`, items they created, and items they contributed to unless
   * their audience is a group that no longer exists.
   */
  visible_to?: { user_id: string; audiences: readonly string[] };
}

/** Counts over the items a filter selects (`GET /api/memory/stats`). */
export interface KnowledgeStats {
  total: number;
  by_status: Partial<Record<KnowledgeStatus, number>>;
  categories: Record<string, number>;
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

type ItemsBuilder = ExpressionBuilder<Database, 'knowledge_items'>;

/**
 * Whether `userId` is among the contributors. The JSON array holds quoted ids; user ids are UUIDs,
 * which contain no LIKE wildcard, and the text form of the column is the same in both dialects.
 */
function hasContributor(eb: ItemsBuilder, userId: string): Expression<SqlBool> {
  return eb(sql<string>`cast(${eb.ref('contributors')} as text)`, 'like', `%"${userId}"%`);
}

function createdOrContributed(eb: ItemsBuilder, userId: string): Expression<SqlBool> {
  return eb.or([eb('source_user', '=', userId), hasContributor(eb, userId)]);
}

/** The audience is everyone, or a group that still exists. */
function audienceAlive(eb: ItemsBuilder): Expression<SqlBool> {
  return eb.or([
    eb('audience', 'not like', 'group:%'),
    eb.exists(
      eb
        .selectFrom('groups')
        .select('groups.id')
        .where((g) =>
          g(sql<string>`'group:' || ${g.ref('groups.id')}`, '=', g.ref('knowledge_items.audience')),
        ),
    ),
  ]);
}

function visibleTo(
  eb: ItemsBuilder,
  viewer: { user_id: string; audiences: readonly string[] },
): Expression<SqlBool> {
  return eb.or([
    eb.and([isIn(eb, 'status', PUBLISHED), isIn(eb, 'audience', viewer.audiences)]),
    eb.and([
      eb('status', '!=', 'expired'),
      eb.or([
        eb('source_user', '=', viewer.user_id),
        eb.and([hasContributor(eb, viewer.user_id), audienceAlive(eb)]),
      ]),
    ]),
  ]);
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
  /** The conditions of `filter`, all of which an item must meet. */
  const matching = (eb: ItemsBuilder, filter: KnowledgeFilter): Expression<SqlBool> => {
    const { ids, status, category, audience, search, source_user, involving, visible_to } = filter;
    const conditions: Expression<SqlBool>[] = [];
    if (ids !== undefined) conditions.push(isIn(eb, 'id', ids));
    if (status !== undefined) conditions.push(isIn(eb, 'status', status));
    if (category !== undefined) conditions.push(eb('category', '=', category));
    if (audience !== undefined) conditions.push(isIn(eb, 'audience', audience));
    if (search) conditions.push(containsText(eb, ['title', 'content'], search));
    if (source_user !== undefined) conditions.push(eb('source_user', '=', source_user));
    if (involving !== undefined) conditions.push(createdOrContributed(eb, involving));
    if (visible_to !== undefined) conditions.push(visibleTo(eb, visible_to));
    return eb.and(conditions);
  };

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
     * A person's edit (08 §4.3): the title, content, category and tags it replaces are kept as the
     * item's next revision, in the same transaction as the change. The status is kept.
     */
    edit(id: string, edit: KnowledgeEdit, editor: string): Promise<KnowledgeItem | undefined> {
      return inTransaction(db, async (trx) => {
        const current = await trx
          .selectFrom('knowledge_items')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst();
        if (!current) return undefined;
        const last = await trx
          .selectFrom('memory_item_revisions')
          .select((eb) => eb.fn.max<number | null>('revision').as('revision'))
          .where('item_id', '=', id)
          .executeTakeFirst();
        const now = nowIso(clock);
        await trx
          .insertInto('memory_item_revisions')
          .values({
            item_id: id,
            revision: Number(last?.revision ?? 0) + 1,
            title: current.title,
            content: current.content,
            category: current.category,
            tags: toJson(current.tags),
            edited_by: editor,
            edited_at: now,
          })
          .execute();
        return trx
          .updateTable('knowledge_items')
          .set({ ...editColumns(edit), edited_by: editor, edited_at: now, updated_at: now })
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirst();
      });
    },

    /** An item's earlier versions, oldest first. */
    revisions(itemId: string): Promise<MemoryItemRevision[]> {
      return db
        .selectFrom('memory_item_revisions')
        .selectAll()
        .where('item_id', '=', itemId)
        .orderBy('revision')
        .execute();
    },

    async stats(filter: KnowledgeFilter = {}): Promise<KnowledgeStats> {
      const rows = await db
        .selectFrom('knowledge_items')
        .select((eb) => ['status', 'category', eb.fn.countAll().as('n')])
        .where((eb) => matching(eb, filter))
        .groupBy(['status', 'category'])
        .execute();
      const stats: KnowledgeStats = { total: 0, by_status: {}, categories: {} };
      for (const row of rows) {
        const n = Number(row.n);
        stats.total += n;
        stats.by_status[row.status] = (stats.by_status[row.status] ?? 0) + n;
        if (row.category !== null) stats.categories[row.category] = (stats.categories[row.category] ?? 0) + n;
      }
      return stats;
    },

    /** Id, title and content hash of every item `filter` selects, for duplicate checks. */
    keys(filter: KnowledgeFilter = {}): Promise<Pick<KnowledgeItem, 'id' | 'title' | 'content_hash'>[]> {
      return db
        .selectFrom('knowledge_items')
        .select(['id', 'title', 'content_hash'])
        .where((eb) => matching(eb, filter))
        .orderBy('created_at')
        .orderBy('id')
        .execute();
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
      throw new AgnesError('invalid_transition', `cannot move a ${current.status} item to ${change.to}`, {
        extra: { status: current.status },
      });
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
      const query = db
        .selectFrom('knowledge_items')
        .selectAll()
        .where((eb) => matching(eb, filter));
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

    /** The user's votes keyed by item id (`GET /api/memory/my-votes`), or only on `itemIds`. */
    async votesOfUser(userId: string, itemIds?: readonly string[]): Promise<Record<string, Vote>> {
      let query = db.selectFrom('knowledge_votes').select(['item_id', 'vote']).where('user_id', '=', userId);
      if (itemIds !== undefined) query = query.where((eb) => isIn(eb, 'item_id', itemIds));
      const rows = await query.execute();
      return Object.fromEntries(rows.map((row) => [row.item_id, row.vote]));
    },
  };
}

export type KnowledgeRepository = ReturnType<typeof createKnowledgeRepository>;

import type {
  MemoryBatchResult,
  MemoryCreated,
  MemoryEdit,
  MemoryEdited,
  MemoryGovernanceAction,
  MemoryHistory,
  MemoryHit,
  MemoryItem,
  MemoryStats,
  MemoryStatus,
  MemoryVoteResult,
  NewMemoryItem,
} from '../../contract/index.js';
import type { Principal } from '../access/decide.js';
import { hasRole } from '../access/roles.js';
import type { InstanceConfig } from '../config/index.js';
import { AgnesError, isAgnesError } from '../errors.js';
import { isPublished, reviewDue, statusesAllowing } from '../memory/governance.js';
import { contentHash, normalizeTitle } from '../memory/normalize.js';
import type {
  AuditEntry,
  KnowledgeEdit,
  KnowledgeFilter,
  KnowledgeItem,
  KnowledgeOrder,
  Page,
  PageRequest,
  Repositories,
} from '../state/repositories/index.js';
import type { KnowledgeStatus } from '../state/schema.js';
import type { Clock } from '../time.js';

/**
 * Corporate memory for one caller (03 §13, 08 §4.2–4.3): what they may see, contribute and vote
 * on, and the km_admins' governance. Which statuses an action may start from is the pure table in
 * `core/memory/governance.ts`; who sees what is one repository filter, so lists, counts, single
 * items, votes and duplicate checks agree.
 */

export interface MemoryDeps {
  repos: Repositories;
  config: Pick<InstanceConfig, 'corporate_memory'>;
  clock: Clock;
}

type Repos = { repos: Repositories };

function isKnowledgeAdmin(principal: Principal): boolean {
  return hasRole(principal.role, 'km_admin');
}

/** `all` plus one `group:<id>` per group of the caller. */
export function audiencesOf(principal: Principal): string[] {
  return ['all', ...principal.groups.map((group) => `group:${group.id}`)];
}

/** km_admins see every item; everyone else the items 03 §13 lets them see. */
function visibility(principal: Principal): KnowledgeFilter {
  if (isKnowledgeAdmin(principal)) return {};
  return { visible_to: { user_id: principal.id, audiences: audiencesOf(principal) } };
}

function notFound(): AgnesError {
  return new AgnesError('not_found', 'memory item not found');
}

function invalid(path: string, message: string): AgnesError {
  return new AgnesError('validation_failed', 'request validation failed', {
    extra: { errors: [{ path, message }] },
  });
}

function checkCategory(deps: Pick<MemoryDeps, 'config'>, category: string): void {
  if (!deps.config.corporate_memory.categories.includes(category)) {
    throw invalid('/body/category', 'must be one of the configured categories');
  }
}

/** A group audience must name an existing group, and one of the caller's own unless they are a km_admin. */
async function checkAudience({ repos }: Repos, principal: Principal, audience: string): Promise<void> {
  if (audience === 'all') return;
  const groupId = audience.slice('group:'.length);
  const member = principal.groups.some((group) => group.id === groupId);
  if (!member && !(isKnowledgeAdmin(principal) && (await repos.groups.getById(groupId)))) {
    throw invalid('/body/audience', 'must be all or a group you belong to');
  }
}

function cleanTags(tags: readonly string[] | undefined): string[] {
  return [...new Set((tags ?? []).map((tag) => tag.trim()).filter(Boolean))];
}

/** Items as the API shows them to `principal`: people by name, vote tallies and the caller's vote. */
export async function itemViews(
  { repos }: Repos,
  principal: Principal,
  items: readonly KnowledgeItem[],
): Promise<MemoryItem[]> {
  const ids = items.map((item) => item.id);
  const people = items.flatMap((item) => [
    ...item.contributors,
    ...(item.source_user ? [item.source_user] : []),
  ]);
  const [users, tallies, votes] = await Promise.all([
    repos.users.getMany(people),
    repos.knowledge.tally(ids),
    repos.knowledge.votesOfUser(principal.id, ids),
  ]);
  const names = new Map(users.map((user) => [user.id, user.name || user.email]));
  const person = (id: string) => {
    const name = names.get(id);
    return name === undefined ? [] : [{ id, name }];
  };
  return items.map((item) => {
    const tally = tallies.get(item.id) ?? { upvotes: 0, downvotes: 0, score: 0 };
    return {
      id: item.id,
      title: item.title,
      content: item.content ?? '',
      category: item.category,
      tags: item.tags,
      status: item.status,
      audience: item.audience,
      origin: item.origin,
      contributors: item.contributors.flatMap(person),
      source_user: item.source_user ? (person(item.source_user)[0] ?? null) : null,
      ...tally,
      my_vote: votes[item.id] ?? null,
      created_at: item.created_at,
      updated_at: item.updated_at,
      approved_at: item.approved_at,
      status_reason: item.status_reason,
    };
  });
}

export interface MemoryListQuery {
  status?: readonly MemoryStatus[];
  category?: string;
  search?: string;
  /** Only items the caller created or contributed to. */
  mine?: boolean;
  order?: KnowledgeOrder;
}

export interface MemoryPage {
  items: MemoryItem[];
  total: number;
  count: number;
  page: number;
  per_page: number;
}

async function viewPage(deps: Repos, principal: Principal, page: Page<KnowledgeItem>): Promise<MemoryPage> {
  const items = await itemViews(deps, principal, page.items);
  return { items, total: page.total, count: page.total, page: page.page, per_page: page.per_page };
}

/** `GET /api/memory`: the visible items, filtered, sorted and paged (newest first by default). */
export async function listMemory(
  deps: Repos,
  principal: Principal,
  query: MemoryListQuery,
  page: PageRequest,
): Promise<MemoryPage> {
  const filter: KnowledgeFilter = {
    ...visibility(principal),
    ...(query.status ? { status: query.status } : {}),
    ...(query.category ? { category: query.category } : {}),
    ...(query.search ? { search: query.search } : {}),
    ...(query.mine ? { involving: principal.id } : {}),
  };
  return viewPage(deps, principal, await deps.repos.knowledge.list(filter, page, query.order));
}

export async function memoryStats({ repos }: Repos, principal: Principal): Promise<MemoryStats> {
  return repos.knowledge.stats(visibility(principal));
}

/**
 * The mandatory items meant for the caller's audience, newest first: what assistants must follow.
 * All of them, or the newest `limit` (the dashboard shows three).
 */
export async function mandatoryMemory(
  deps: Repos,
  principal: Principal,
  limit?: number,
): Promise<MemoryItem[]> {
  const filter: KnowledgeFilter = { status: ['mandatory'], audience: audiencesOf(principal) };
  const perPage = limit ?? 200;
  const items: KnowledgeItem[] = [];
  for (let page = 1; ; page += 1) {
    const found = await deps.repos.knowledge.list(filter, { page, per_page: perPage });
    items.push(...found.items);
    if (limit !== undefined || items.length >= found.total || found.items.length === 0) break;
  }
  return itemViews(deps, principal, items);
}

async function visibleItem({ repos }: Repos, principal: Principal, id: string): Promise<KnowledgeItem> {
  const found = await repos.knowledge.list({ ...visibility(principal), ids: [id] }, { page: 1, per_page: 1 });
  const item = found.items[0];
  if (!item) throw notFound();
  return item;
}

export async function getMemoryItem(deps: Repos, principal: Principal, id: string): Promise<MemoryItem> {
  const [view] = await itemViews(deps, principal, [await visibleItem(deps, principal, id)]);
  return view as MemoryItem;
}

/** An item's earlier versions, for km_admins and the item's creator; anyone else gets 404. */
export async function memoryHistory(
  { repos }: Repos,
  principal: Principal,
  id: string,
): Promise<MemoryHistory> {
  const item = await repos.knowledge.get(id);
  if (!item || !(isKnowledgeAdmin(principal) || item.source_user === principal.id)) throw notFound();
  const revisions = await repos.knowledge.revisions(id);
  return {
    revisions: revisions.map((revision) => ({
      revision: revision.revision,
      title: revision.title,
      content: revision.content ?? '',
      category: revision.category,
      tags: revision.tags,
      edited_by: revision.edited_by,
      edited_at: revision.edited_at,
    })),
  };
}

/**
 * `POST /api/memory`: a contribution, pending or (under `auto_publish`) approved at once. A
 * duplicate is judged only against items the caller can see, so the 409 never reveals an item
 * they may not know about.
 */
export async function createMemoryItem(
  deps: MemoryDeps,
  principal: Principal,
  input: NewMemoryItem,
): Promise<MemoryCreated> {
  checkCategory(deps, input.category);
  const audience = input.audience ?? 'all';
  await checkAudience(deps, principal, audience);
  const hash = contentHash(input.content);
  const title = normalizeTitle(input.title);
  const duplicate = (await deps.repos.knowledge.keys(visibility(principal))).find(
    (item) => item.content_hash === hash || normalizeTitle(item.title) === title,
  );
  if (duplicate) {
    throw new AgnesError('duplicate', `an item with this title or content already exists: ${duplicate.id}`, {
      extra: { existing_id: duplicate.id },
    });
  }
  const now = deps.clock.now();
  const publish = deps.config.corporate_memory.approval_mode === 'auto_publish';
  const created = await deps.repos.knowledge.create({
    title: input.title.trim(),
    content: input.content,
    category: input.category,
    tags: cleanTags(input.tags),
    status: publish ? 'approved' : 'pending',
    contributors: [],
    source_user: principal.id,
    audience,
    content_hash: hash,
    origin: 'manual',
    ...(publish
      ? {
          approved_at: now.toISOString(),
          review_by: reviewDue(now, deps.config.corporate_memory.review_period_months).toISOString(),
        }
      : {}),
  });
  return { id: created.id, status: publish ? 'approved' : 'pending' };
}

/** One vote per user on a visible, published item; 0 takes the caller's vote back. */
export async function voteMemory(
  deps: Repos,
  principal: Principal,
  id: string,
  vote: -1 | 0 | 1,
): Promise<MemoryVoteResult> {
  const item = await visibleItem(deps, principal, id);
  if (!isPublished(item.status)) {
    throw new AgnesError('not_votable', 'only approved and mandatory items take votes', {
      extra: { status: item.status },
    });
  }
  if (vote === 0) await deps.repos.knowledge.removeVote(id, principal.id);
  else await deps.repos.knowledge.setVote(id, principal.id, vote);
  const tally = (await deps.repos.knowledge.tally([id])).get(id) ?? { upvotes: 0, downvotes: 0, score: 0 };
  return { ...tally, my_vote: vote === 0 ? null : vote };
}

export async function myMemoryVotes({ repos }: Repos, principal: Principal): Promise<Record<string, 1 | -1>> {
  return repos.knowledge.votesOfUser(principal.id);
}

const TARGET: Record<MemoryGovernanceAction, KnowledgeStatus> = {
  approve: 'approved',
  reject: 'rejected',
  mandate: 'mandatory',
  revoke: 'revoked',
};

export interface GovernanceRequest {
  id: string;
  action: MemoryGovernanceAction;
  reason?: string;
  /** Only `mandate` may set it (08 §4.2). */
  audience?: string;
}

/**
 * A km_admin's approve, reject, mandate or revoke. The transition table decides which statuses
 * the action may start from, and the repository applies it in one conditional UPDATE, so two
 * admins acting at once cannot both move the item. Returns the item after the move.
 */
export async function governMemory(
  deps: MemoryDeps,
  principal: Principal,
  request: GovernanceRequest,
): Promise<KnowledgeItem> {
  const { id, action, reason, audience } = request;
  if (audience !== undefined) await checkAudience(deps, principal, audience);
  const to = TARGET[action];
  const now = deps.clock.now();
  return deps.repos.knowledge.transition(id, {
    from: statusesAllowing(action),
    to,
    actor: principal.id,
    reason: reason ?? null,
    ...(isPublished(to)
      ? { review_by: reviewDue(now, deps.config.corporate_memory.review_period_months).toISOString() }
      : {}),
    ...(action === 'mandate' && audience !== undefined ? { audience } : {}),
  });
}

/** The same action on many items; each item succeeds or fails on its own. */
export async function governMemoryBatch(
  deps: MemoryDeps,
  principal: Principal,
  request: Omit<GovernanceRequest, 'id'> & { item_ids: readonly string[] },
): Promise<MemoryBatchResult> {
  const result: MemoryBatchResult = { success: [], not_found: [], invalid: [] };
  if (request.audience !== undefined) await checkAudience(deps, principal, request.audience);
  for (const id of new Set(request.item_ids)) {
    try {
      await governMemory(deps, principal, { ...request, id });
      result.success.push(id);
    } catch (error) {
      if (!isAgnesError(error)) throw error;
      if (error.code === 'not_found') result.not_found.push(id);
      else if (error.code === 'invalid_transition')
        result.invalid.push({ id, status: error.extra?.status as KnowledgeStatus });
      else throw error;
    }
  }
  return result;
}

/** A km_admin's edit: only fields that change are written, the old version becomes a revision. */
export async function editMemoryItem(
  deps: MemoryDeps,
  principal: Principal,
  id: string,
  edit: MemoryEdit,
): Promise<MemoryEdited & { audience: string }> {
  const item = await deps.repos.knowledge.get(id);
  if (!item) throw notFound();
  if (edit.category !== undefined) checkCategory(deps, edit.category);
  if (edit.audience !== undefined) await checkAudience(deps, principal, edit.audience);
  const change: KnowledgeEdit = {};
  if (edit.title !== undefined && edit.title.trim() !== item.title) change.title = edit.title.trim();
  if (edit.content !== undefined && edit.content !== item.content) {
    change.content = edit.content;
    change.content_hash = contentHash(edit.content);
  }
  if (edit.category !== undefined && edit.category !== item.category) change.category = edit.category;
  const tags = edit.tags === undefined ? undefined : cleanTags(edit.tags);
  if (tags !== undefined && JSON.stringify(tags) !== JSON.stringify(item.tags)) change.tags = tags;
  if (edit.audience !== undefined && edit.audience !== item.audience) change.audience = edit.audience;
  const updated = Object.keys(change).filter((field) => field !== 'content_hash');
  if (updated.length === 0) return { id, updated, audience: item.audience };
  const saved = await deps.repos.knowledge.edit(id, change, principal.id);
  if (!saved) throw notFound();
  return { id, updated, audience: saved.audience };
}

/** The review queue: pending items, newest first. */
export async function pendingMemory(
  deps: Repos,
  principal: Principal,
  query: { category?: string },
  page: PageRequest,
): Promise<MemoryPage> {
  const filter: KnowledgeFilter = {
    status: ['pending'],
    ...(query.category ? { category: query.category } : {}),
  };
  return viewPage(deps, principal, await deps.repos.knowledge.list(filter, page));
}

/** Governance entries of the audit log (`km_<action>`), newest first. */
export function memoryAudit(
  { repos }: Repos,
  query: { action?: MemoryGovernanceAction | 'edit' | 'import' },
  page: PageRequest,
): Promise<Page<AuditEntry>> {
  return repos.audit.list(query.action ? { action: `km_${query.action}` } : { action_prefix: 'km_' }, page);
}

/**
 * Searching corporate memory for one reader (the MCP tool): approved and mandatory items meant
 * for everyone or for one of the reader's groups, plus the reader's own items still under review.
 * Rejected, revoked and expired knowledge never guides anybody, km_admins included.
 */
const SEARCHABLE: readonly KnowledgeStatus[] = ['approved', 'mandatory', 'pending'];

export async function searchMemory(
  { repos }: Repos,
  principal: Principal,
  input: { query: string; limit: number },
): Promise<MemoryHit[]> {
  const page = await repos.knowledge.list(
    {
      status: SEARCHABLE,
      search: input.query,
      visible_to: { user_id: principal.id, audiences: audiencesOf(principal) },
    },
    { page: 1, per_page: input.limit },
    { sort: 'score', order: 'desc' },
  );
  const tallies = await repos.knowledge.tally(page.items.map((item) => item.id));
  return page.items.map((item) => ({
    id: item.id,
    title: item.title,
    content: item.content ?? '',
    category: item.category,
    votes: tallies.get(item.id)?.score ?? 0,
  }));
}

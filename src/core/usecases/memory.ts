import type { MemoryHit } from '../../contract/index.js';
import type { Principal } from '../access/decide.js';
import type { Repositories } from '../state/repositories/index.js';
import type { KnowledgeStatus } from '../state/schema.js';

/**
 * Searching corporate memory for one reader: approved and mandatory items meant for everyone or
 * for one of the reader's groups, plus the reader's own items still under review. Rejected,
 * revoked and expired knowledge never guides anybody.
 */
const SEARCHABLE: readonly KnowledgeStatus[] = ['approved', 'mandatory', 'pending'];

export async function searchMemory(
  { repos }: { repos: Repositories },
  principal: Principal,
  input: { query: string; limit: number },
): Promise<MemoryHit[]> {
  const audiences = ['all', ...principal.groups.map((group) => `group:${group.id}`)];
  const page = await repos.knowledge.list(
    { status: SEARCHABLE, search: input.query, visible_to: { user_id: principal.id, audiences } },
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

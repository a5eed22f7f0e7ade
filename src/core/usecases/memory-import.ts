import type { MemoryImportItem, MemoryImportRequest, MemoryImportResult } from '../../contract/index.js';
import type { Principal } from '../access/decide.js';
import type { InstanceConfig } from '../config/index.js';
import { contentHash, normalizeTitle } from '../memory/normalize.js';
import type { KnowledgeItem, Repositories } from '../state/repositories/index.js';
import type { Clock } from '../time.js';

export interface MemoryImportDeps {
  repos: Repositories;
  config: Pick<InstanceConfig, 'corporate_memory'>;
  clock: Clock;
}

/** What the import changed, for the one `km_import` audit entry of the batch. */
export interface MemoryImportOutcome {
  result: MemoryImportResult;
  contributors_dropped: number;
}

const MAX_TAGS = 10;

type Identity = Pick<KnowledgeItem, 'id' | 'title' | 'content_hash'>;

/** Item ids by normalised title and by content hash; the first (most recently updated) wins. */
function identityIndex(items: readonly Identity[]): Map<string, string> {
  const byKey = new Map<string, string>();
  for (const item of items) remember(byKey, item);
  return byKey;
}

function remember(byKey: Map<string, string>, item: Identity): void {
  const title = `title:${normalizeTitle(item.title)}`;
  if (!byKey.has(title)) byKey.set(title, item.id);
  if (item.content_hash && !byKey.has(`hash:${item.content_hash}`))
    byKey.set(`hash:${item.content_hash}`, item.id);
}

const lower = (id: string) => id.toLowerCase();
const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];

function reviewBy(clock: Clock, months: number): string {
  const due = clock.now();
  due.setUTCMonth(due.getUTCMonth() + months);
  return due.toISOString();
}

/**
 * `POST /api/memory/admin/import` (08 §4.1 step 8, §4.3 Dedup and Items): each item goes to the
 * item its `existing_id` names, else to one with the same normalised title or content hash —
 * existing or created earlier in this batch — else becomes a new item with the status
 * `approval_mode` gives. A pending item takes the new content and merged tags; every other status
 * only gains contributors, so reviewed knowledge never changes under its reviewers. Items the
 * batch does not mention are left alone. Contributors that are not active users are dropped.
 */
export async function importMemory(
  deps: MemoryImportDeps,
  principal: Principal,
  input: MemoryImportRequest,
): Promise<MemoryImportOutcome> {
  const { corporate_memory: settings } = deps.config;
  const categories = new Set(settings.categories);
  return deps.repos.transaction(async (repos) => {
    const requested = union(
      [],
      input.items.flatMap((item) => item.contributors.map(lower)),
    );
    const active = new Set(
      requested.length === 0
        ? []
        : (await repos.users.getMany(requested)).filter((user) => user.active).map((user) => user.id),
    );
    const byKey = identityIndex(await repos.knowledge.keys());
    const created: string[] = [];
    const updated = new Set<string>();
    const skipped: MemoryImportResult['skipped'] = [];
    let contributorsDropped = 0;

    const target = async (item: MemoryImportItem, hash: string) => {
      const named = item.existing_id ? await repos.knowledge.get(item.existing_id) : undefined;
      if (named) return named;
      const id = byKey.get(`title:${normalizeTitle(item.title)}`) ?? byKey.get(`hash:${hash}`);
      return id === undefined ? undefined : repos.knowledge.get(id);
    };

    for (const [index, item] of input.items.entries()) {
      if (!categories.has(item.category)) {
        skipped.push({ index, reason: 'unknown_category' });
        continue;
      }
      const named = union([], item.contributors.map(lower));
      const contributors = named.filter((id) => active.has(id));
      contributorsDropped += named.length - contributors.length;
      const hash = contentHash(item.content);
      const existing = await target(item, hash);

      if (!existing) {
        let fresh = await repos.knowledge.create({
          title: item.title,
          content: item.content,
          category: item.category,
          tags: union([], item.tags).slice(0, MAX_TAGS),
          status: 'pending',
          contributors,
          source_user: null,
          content_hash: hash,
          origin: 'collector',
        });
        if (settings.approval_mode === 'auto_publish') {
          fresh = await repos.knowledge.transition(fresh.id, {
            from: ['pending'],
            to: 'approved',
            actor: principal.id,
            review_by: reviewBy(deps.clock, settings.review_period_months),
          });
        }
        remember(byKey, fresh);
        created.push(fresh.id);
        continue;
      }

      const mergedContributors = union(existing.contributors, contributors);
      const gained = mergedContributors.length > existing.contributors.length;
      const edit =
        existing.status === 'pending'
          ? {
              title: item.title,
              content: item.content,
              category: item.category,
              tags: union(existing.tags, item.tags).slice(0, MAX_TAGS),
              content_hash: hash,
            }
          : {};
      const changed =
        gained ||
        ('title' in edit &&
          (edit.title !== existing.title ||
            edit.content !== existing.content ||
            edit.category !== existing.category ||
            edit.tags.length !== existing.tags.length));
      if (!changed) {
        if (!created.includes(existing.id) && !updated.has(existing.id))
          skipped.push({ index, reason: 'unchanged' });
        continue;
      }
      const after = await repos.knowledge.update(
        existing.id,
        { ...edit, contributors: mergedContributors },
        null,
      );
      if (!after) continue;
      if (!created.includes(after.id)) updated.add(after.id);
      // Later items of the batch compare with the item as it is now, under its old and new keys.
      for (const key of [normalizeTitle(existing.title), normalizeTitle(after.title)])
        byKey.set(`title:${key}`, after.id);
      byKey.set(`hash:${after.content_hash ?? hash}`, after.id);
    }
    return { result: { created, updated: [...updated], skipped }, contributors_dropped: contributorsDropped };
  });
}

/** The ids among `userIds` that name existing, active users (08 §4.3 Inputs). */
export async function activeUserIds({ repos }: Pick<MemoryImportDeps, 'repos'>, userIds: readonly string[]) {
  const users = await repos.users.getMany(userIds.map(lower));
  return users.filter((user) => user.active).map((user) => user.id);
}

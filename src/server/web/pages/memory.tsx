import type { MemoryItem, MemoryStatus } from '../../../contract/index.js';
import { ApiForm, Badge, ChoiceSelect, fmtDate, Options, statusTone } from '../components/bits.js';
import { Layout, type PageContext } from '../components/layout.js';

export const MEMORY_SORTS = ['updated_at', 'created_at', 'score', 'title'] as const;
export type MemorySort = (typeof MEMORY_SORTS)[number];
const SORT_LABEL: Record<MemorySort, string> = {
  updated_at: 'Recently updated',
  created_at: 'Newest',
  score: 'Highest score',
  title: 'Title',
};

export interface MemoryFilters {
  search: string;
  category: string;
  sort: MemorySort;
  mine: boolean;
  page: number;
}

/** Where a list page's links lead: the same filters on another page. */
export function pageHref(
  base: string,
  params: Record<string, string | number | boolean | undefined>,
): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '' && value !== false) query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${base}?${text}` : base;
}

export function Pagination(props: {
  total: number;
  page: number;
  perPage: number;
  href: (page: number) => string;
}) {
  const pages = Math.max(1, Math.ceil(props.total / props.perPage));
  if (pages <= 1) return null;
  return (
    <nav class="pagination" aria-label="Pages">
      {props.page > 1 ? <a href={props.href(props.page - 1)}>Previous</a> : null}
      <span>
        Page {props.page} of {pages}
      </span>
      {props.page < pages ? <a href={props.href(props.page + 1)}>Next</a> : null}
    </nav>
  );
}

export function Tags(props: { tags: readonly string[] }) {
  if (props.tags.length === 0) return null;
  return (
    <ul class="tags" aria-label="Tags">
      {props.tags.map((tag) => (
        <li key={tag}>
          <span class="badge">#{tag}</span>
        </li>
      ))}
    </ul>
  );
}

const STATUS_TONE: Partial<Record<MemoryStatus, 'ok' | 'warn' | 'err'>> = {
  mandatory: 'ok',
  rejected: 'err',
  revoked: 'err',
  expired: 'warn',
};

export function StatusBadge(props: { status: MemoryStatus }) {
  return <Badge tone={STATUS_TONE[props.status] ?? statusTone(props.status)}>{props.status}</Badge>;
}

/** Score and the two vote buttons; the `memory` module sends the vote and updates both. */
function Votes(props: { item: MemoryItem }) {
  const { item } = props;
  const votable = item.status === 'approved' || item.status === 'mandatory';
  return (
    <div class="votes" data-votes={item.id}>
      <span class="muted">Score</span>
      <strong class="score" data-score>
        {item.score > 0 ? `+${item.score}` : String(item.score)}
      </strong>
      {votable ? (
        <>
          <button
            type="button"
            class="secondary small"
            data-vote="1"
            aria-pressed={item.my_vote === 1 ? 'true' : 'false'}
            aria-label={`Vote up: ${item.title}`}
          >
            ▲
          </button>
          <button
            type="button"
            class="secondary small"
            data-vote="-1"
            aria-pressed={item.my_vote === -1 ? 'true' : 'false'}
            aria-label={`Vote down: ${item.title}`}
          >
            ▼
          </button>
        </>
      ) : null}
      <span class="status" role="status" aria-live="polite" data-status />
    </div>
  );
}

function ItemCard(props: { item: MemoryItem; userId: string }) {
  const { item } = props;
  const own = item.source_user?.id === props.userId || item.contributors.some((c) => c.id === props.userId);
  return (
    <article class="card memory" aria-labelledby={`m-${item.id}`}>
      <h3 id={`m-${item.id}`}>{item.title}</h3>
      <p class="meta">
        {item.category ? <Badge>{item.category}</Badge> : null}{' '}
        {own || item.status !== 'approved' ? <StatusBadge status={item.status} /> : null}{' '}
        {own ? <Badge>yours</Badge> : null}{' '}
        <span class="muted">
          {item.source_user ? `by ${item.source_user.name} · ` : ''}updated {fmtDate(item.updated_at)}
        </span>
      </p>
      <p class="text">{item.content}</p>
      <Tags tags={item.tags} />
      <Votes item={item} />
    </article>
  );
}

function ContributeForm(props: {
  ctx: PageContext;
  categories: readonly string[];
  groups: readonly { id: string; name: string }[];
}) {
  const { ctx } = props;
  return (
    <section class="card" aria-labelledby="contribute-h">
      <h2 id="contribute-h">Contribute</h2>
      <p class="muted">New items wait for review by a knowledge admin before others see them.</p>
      <ApiForm csrf={ctx.csrfToken} api="/api/memory" label="Contribute a knowledge item">
        <label for="new-title">Title</label>
        <input id="new-title" name="title" type="text" required maxLength={200} />
        <label for="new-content">Content</label>
        <textarea id="new-content" name="content" required maxLength={10_000} rows={5} />
        <div class="row">
          <div>
            <label for="new-category">Category</label>
            <select id="new-category" name="category" required>
              <Options values={props.categories} />
            </select>
          </div>
          <div>
            <label for="new-tags">Tags (comma separated)</label>
            <input id="new-tags" name="tags" type="text" data-type="list" maxLength={450} />
          </div>
          <div>
            <AudienceSelect id="new-audience" groups={props.groups} />
          </div>
        </div>
        <button type="submit">Contribute</button>
      </ApiForm>
    </section>
  );
}

export function AudienceSelect(props: {
  id: string;
  groups: readonly { id: string; name: string }[];
  keep?: boolean;
  selected?: string;
}) {
  return (
    <>
      <label for={props.id}>Audience</label>
      <select id={props.id} name="audience">
        {props.keep ? <option value="">Keep current</option> : null}
        <option value="all" selected={props.selected === 'all'}>
          Everyone
        </option>
        {props.groups.map((group) => (
          <option
            key={group.id}
            value={`group:${group.id}`}
            selected={props.selected === `group:${group.id}`}
          >
            Group: {group.name}
          </option>
        ))}
      </select>
    </>
  );
}

export function MemoryPage(props: {
  ctx: PageContext;
  mandatory: MemoryItem[];
  items: MemoryItem[];
  total: number;
  perPage: number;
  filters: MemoryFilters;
  categories: readonly string[];
  groups: readonly { id: string; name: string }[];
  canContribute: boolean;
}) {
  const { ctx, filters } = props;
  const userId = ctx.user?.id ?? '';
  const href = (page: number) =>
    pageHref('/corporate-memory', {
      q: filters.search,
      category: filters.category,
      sort: filters.sort === 'updated_at' ? undefined : filters.sort,
      mine: filters.mine ? 1 : undefined,
      page: page > 1 ? page : undefined,
    });
  return (
    <Layout ctx={ctx} title="Corporate memory" scripts={['memory']}>
      <h1>Corporate memory</h1>
      {props.mandatory.length > 0 ? (
        <section aria-labelledby="mandatory-h">
          <h2 id="mandatory-h">Mandatory</h2>
          {props.mandatory.map((item) => (
            <ItemCard key={item.id} item={item} userId={userId} />
          ))}
        </section>
      ) : null}
      <form method="get" action="/corporate-memory" class="card" aria-label="Filter knowledge">
        <div class="row">
          <div>
            <label for="q">Search</label>
            <input id="q" name="q" type="search" value={filters.search} maxLength={200} />
          </div>
          <div>
            <ChoiceSelect
              id="category"
              name="category"
              label="Category"
              anyLabel="All categories"
              values={props.categories}
              selected={filters.category}
            />
          </div>
          <div>
            <label for="sort">Sort by</label>
            <select id="sort" name="sort">
              {MEMORY_SORTS.map((sort) => (
                <option key={sort} value={sort} selected={sort === filters.sort}>
                  {SORT_LABEL[sort]}
                </option>
              ))}
            </select>
          </div>
          <div class="shrink">
            <label class="inline" for="mine">
              <input id="mine" name="mine" type="checkbox" value="1" checked={filters.mine} /> Mine only
            </label>
          </div>
          <div class="shrink">
            <button type="submit">Apply</button>
          </div>
        </div>
      </form>
      <section aria-labelledby="items-h">
        <h2 id="items-h">Knowledge ({props.total})</h2>
        {props.items.length === 0 ? <p class="muted">No items match.</p> : null}
        {props.items.map((item) => (
          <ItemCard key={item.id} item={item} userId={userId} />
        ))}
        <Pagination total={props.total} page={filters.page} perPage={props.perPage} href={href} />
      </section>
      {props.canContribute ? (
        <ContributeForm ctx={ctx} categories={props.categories} groups={props.groups} />
      ) : null}
    </Layout>
  );
}

import type { MemoryItem, MemoryStats, MemoryStatus } from '../../../contract/index.js';
import type { entryViews } from '../../api/audit.js';
import { ApiForm, Badge, ChoiceSelect, DataTable, fmtDate, Options } from '../components/bits.js';
import { FormStatus, Layout, type PageContext } from '../components/layout.js';
import { AudienceSelect, Pagination, pageHref, StatusBadge, Tags } from './memory.js';

/** The km_admin page of corporate memory (09 §2 `/corporate-memory/admin`): review queue, all items, audit. */

type AuditView = Awaited<ReturnType<typeof entryViews>>[number];

export type MemoryAdminTab = 'review' | 'all' | 'audit';

function GovernForm(props: {
  item: MemoryItem;
  actions: readonly ('approve' | 'reject' | 'mandate' | 'revoke')[];
  groups: readonly { id: string; name: string }[];
}) {
  const { item } = props;
  const mandate = props.actions.includes('mandate');
  return (
    <form class="govern" data-govern={item.id} aria-label={`Decide on ${item.title}`}>
      <div class="row">
        <div>
          <label for={`reason-${item.id}`}>Reason (optional)</label>
          <input id={`reason-${item.id}`} name="reason" type="text" maxLength={1000} />
        </div>
        {mandate ? (
          <div>
            <AudienceSelect id={`audience-${item.id}`} groups={props.groups} keep />
          </div>
        ) : null}
      </div>
      {props.actions.map((action) => (
        <button
          key={action}
          type="submit"
          class={action === 'reject' || action === 'revoke' ? 'danger small' : 'small'}
          data-action={action}
          aria-label={`${action[0]!.toUpperCase()}${action.slice(1)}: ${item.title}`}
        >
          {action[0]!.toUpperCase()}
          {action.slice(1)}
        </button>
      ))}
      <FormStatus />
    </form>
  );
}

function ReviewQueue(props: {
  items: MemoryItem[];
  total: number;
  groups: readonly { id: string; name: string }[];
}) {
  if (props.items.length === 0) return <p class="muted">Nothing to review.</p>;
  return (
    <>
      <form class="card batch" data-batch aria-label="Decide on the selected items">
        <h3>Selected items</h3>
        <div class="row">
          <div>
            <label for="batch-action">Action</label>
            <select id="batch-action" name="action">
              <option value="approve">Approve</option>
              <option value="reject">Reject</option>
              <option value="mandate">Mandate</option>
            </select>
          </div>
          <div>
            <label for="batch-reason">Reason (optional)</label>
            <input id="batch-reason" name="reason" type="text" maxLength={1000} />
          </div>
          <div>
            <AudienceSelect id="batch-audience" groups={props.groups} keep />
          </div>
          <div class="shrink">
            <button type="submit">Apply to selected</button>
          </div>
        </div>
        <FormStatus />
      </form>
      <p class="muted">
        {props.items.length} of {props.total} pending, newest first.
      </p>
      {props.items.map((item) => (
        <article key={item.id} class="card memory" aria-labelledby={`m-${item.id}`}>
          <label class="inline" for={`pick-${item.id}`}>
            <input id={`pick-${item.id}`} type="checkbox" data-pick={item.id} /> Select
          </label>
          <h3 id={`m-${item.id}`}>{item.title}</h3>
          <p class="meta">
            {item.category ? <Badge>{item.category}</Badge> : null} <Badge>{item.origin}</Badge>{' '}
            <span class="muted">
              {item.source_user ? `by ${item.source_user.name}` : 'from the collector'}
              {item.contributors.length > 0
                ? ` · contributors: ${item.contributors.map((c) => c.name).join(', ')}`
                : ''}{' '}
              · {fmtDate(item.created_at)} · audience {item.audience}
            </span>
          </p>
          <p class="text">{item.content}</p>
          <Tags tags={item.tags} />
          <GovernForm item={item} actions={['approve', 'reject', 'mandate']} groups={props.groups} />
        </article>
      ))}
    </>
  );
}

function EditForm(props: {
  ctx: PageContext;
  item: MemoryItem;
  categories: readonly string[];
  groups: readonly { id: string; name: string }[];
}) {
  const { item } = props;
  const id = (name: string) => `${name}-${item.id}`;
  return (
    <details>
      <summary>Edit</summary>
      <ApiForm
        csrf={props.ctx.csrfToken}
        api={`/api/memory/admin/edit?item_id=${encodeURIComponent(item.id)}`}
        label={`Edit ${item.title}`}
      >
        <label for={id('title')}>Title</label>
        <input id={id('title')} name="title" type="text" required maxLength={200} value={item.title} />
        <label for={id('content')}>Content</label>
        <textarea id={id('content')} name="content" required maxLength={10_000} rows={5}>
          {item.content}
        </textarea>
        <label for={id('category')}>Category</label>
        <select id={id('category')} name="category">
          <Options values={props.categories} selected={item.category ?? undefined} />
        </select>
        <label for={id('tags')}>Tags (comma separated)</label>
        <input id={id('tags')} name="tags" type="text" data-type="list" value={item.tags.join(', ')} />
        <AudienceSelect id={id('audience')} groups={props.groups} selected={item.audience} />
        <button type="submit" class="small">
          Save
        </button>
      </ApiForm>
    </details>
  );
}

const REVOCABLE: readonly MemoryStatus[] = ['approved', 'mandatory', 'expired'];

function AllItems(props: {
  ctx: PageContext;
  items: MemoryItem[];
  total: number;
  page: number;
  perPage: number;
  status: string;
  categories: readonly string[];
  groups: readonly { id: string; name: string }[];
  statuses: readonly string[];
}) {
  return (
    <>
      <form method="get" action="/corporate-memory/admin" class="card" aria-label="Filter items">
        <input type="hidden" name="tab" value="all" />
        <div class="row">
          <div>
            <ChoiceSelect
              id="status"
              name="status"
              label="Status"
              anyLabel="All statuses"
              values={props.statuses}
              selected={props.status}
            />
          </div>
          <div class="shrink">
            <button type="submit">Apply</button>
          </div>
        </div>
      </form>
      {props.items.length === 0 ? <p class="muted">No items.</p> : null}
      {props.items.map((item) => (
        <article key={item.id} class="card memory" aria-labelledby={`m-${item.id}`}>
          <h3 id={`m-${item.id}`}>{item.title}</h3>
          <p class="meta">
            <StatusBadge status={item.status} /> {item.category ? <Badge>{item.category}</Badge> : null}{' '}
            <span class="muted">
              score {item.score} · audience {item.audience} · updated {fmtDate(item.updated_at)}
            </span>
          </p>
          <p class="text">{item.content}</p>
          {REVOCABLE.includes(item.status) ? (
            <GovernForm item={item} actions={['revoke']} groups={props.groups} />
          ) : null}
          <EditForm ctx={props.ctx} item={item} categories={props.categories} groups={props.groups} />
        </article>
      ))}
      <Pagination
        total={props.total}
        page={props.page}
        perPage={props.perPage}
        href={(page) => pageHref('/corporate-memory/admin', { tab: 'all', status: props.status, page })}
      />
    </>
  );
}

function AuditList(props: { entries: AuditView[] }) {
  if (props.entries.length === 0) return <p class="muted">No governance actions yet.</p>;
  return (
    <DataTable headings={['When', 'Who', 'Action', 'Item', 'Reason', 'Audience', 'Result']}>
      {props.entries.map((entry) => (
        <tr key={entry.id}>
          <td>{fmtDate(entry.timestamp)}</td>
          <td>{entry.user_email ?? entry.user_id ?? '—'}</td>
          <td>
            <code>{entry.action}</code>
          </td>
          <td>{entry.resource ?? ''}</td>
          <td>{typeof entry.params?.reason === 'string' ? entry.params.reason : ''}</td>
          <td>{typeof entry.params?.audience === 'string' ? entry.params.audience : ''}</td>
          <td>
            <Badge tone={entry.result === 'ok' ? 'ok' : 'err'}>{entry.result}</Badge>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

export function MemoryAdminPage(props: {
  ctx: PageContext;
  tab: MemoryAdminTab;
  stats: MemoryStats;
  review?: { items: MemoryItem[]; total: number };
  all?: { items: MemoryItem[]; total: number; page: number; perPage: number; status: string };
  audit?: AuditView[];
  categories: readonly string[];
  groups: readonly { id: string; name: string }[];
  statuses: readonly string[];
}) {
  const { ctx, stats } = props;
  const tabs: [MemoryAdminTab, string][] = [
    ['review', 'Review queue'],
    ['all', 'All items'],
    ['audit', 'Audit'],
  ];
  return (
    <Layout ctx={ctx} title="Memory review" scripts={['memory']}>
      <h1>Memory review</h1>
      <section class="grid stats" aria-label="Counts">
        {(['pending', 'approved', 'mandatory'] as const).map((status) => (
          <div key={status} class="card">
            <div class="muted">{status}</div>
            <div class="stat">{stats.by_status[status] ?? 0}</div>
          </div>
        ))}
        <div class="card">
          <div class="muted">total</div>
          <div class="stat">{stats.total}</div>
        </div>
      </section>
      <nav class="card tabs" aria-label="Sections">
        {tabs.map(([tab, label]) => (
          <a
            key={tab}
            href={`/corporate-memory/admin?tab=${tab}`}
            aria-current={props.tab === tab ? 'page' : undefined}
          >
            {label}
          </a>
        ))}
      </nav>
      <section aria-labelledby="tab-h">
        <h2 id="tab-h">{tabs.find(([tab]) => tab === props.tab)?.[1]}</h2>
        {props.review ? (
          <ReviewQueue items={props.review.items} total={props.review.total} groups={props.groups} />
        ) : null}
        {props.all ? (
          <AllItems
            ctx={ctx}
            {...props.all}
            categories={props.categories}
            groups={props.groups}
            statuses={props.statuses}
          />
        ) : null}
        {props.audit ? <AuditList entries={props.audit} /> : null}
      </section>
    </Layout>
  );
}

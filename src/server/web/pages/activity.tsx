import type { NotificationList, SyncHistoryEntry } from '../../../contract/index.js';
import type { entryViews } from '../../api/audit.js';
import {
  ActionButton,
  Badge,
  DataTable,
  fmtDate,
  fmtNum,
  statusTone,
  type Tone,
} from '../components/bits.js';
import { Layout, type PageContext } from '../components/layout.js';

type AuditView = Awaited<ReturnType<typeof entryViews>>[number];

export interface AuditFilters {
  user: string;
  action: string;
  from: string;
}

function AuditTable(props: { entries: AuditView[]; showUser: boolean }) {
  if (props.entries.length === 0) return <p class="muted">No entries.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            {props.showUser ? <th scope="col">User</th> : null}
            <th scope="col">Action</th>
            <th scope="col">Resource</th>
            <th scope="col">Result</th>
            <th scope="col">Client</th>
          </tr>
        </thead>
        <tbody>
          {props.entries.map((e) => (
            <tr key={e.id}>
              <td>{fmtDate(e.timestamp)}</td>
              {props.showUser ? <td>{e.user_email ?? e.user_id ?? '—'}</td> : null}
              <td>
                <code>{e.action}</code>
              </td>
              <td>{e.resource ?? ''}</td>
              <td>
                <Badge tone={e.result === 'ok' ? 'ok' : 'err'}>{e.result}</Badge>
              </td>
              <td>{e.client ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

const DELIVERY_TONE: Record<string, Tone> = {
  sent: 'ok',
  failed: 'err',
  pending: 'warn',
  skipped: undefined,
};

function Delivery(props: { channel: string; status: string }) {
  return <Badge tone={DELIVERY_TONE[props.status]}>{`${props.channel}: ${props.status}`}</Badge>;
}

/** The inbox (09 §2 Notifications tab): newest first, unread ones marked, mark read / all read. */
function NotificationsSection(props: { ctx: PageContext; inbox: NotificationList }) {
  const { ctx, inbox } = props;
  const pages = Math.max(1, Math.ceil(inbox.total / inbox.per_page));
  return (
    <section class="card" aria-labelledby="notifications-h" id="notifications">
      <h2 id="notifications-h">Notifications</h2>
      <p>
        <span data-inbox-unread={String(inbox.unread_count)}>{`${fmtNum(inbox.unread_count)} unread`}</span>
        {inbox.unread_count > 0 ? (
          <>
            {' '}
            <ActionButton
              csrf={ctx.csrfToken}
              api="/api/notifications/read-all"
              label="Mark all notifications read"
              text="Mark all read"
            />
          </>
        ) : null}
      </p>
      {inbox.items.length === 0 ? (
        <p class="muted">No notifications.</p>
      ) : (
        <DataTable headings={['When', 'Title', 'Message', 'Source', 'Delivery', '']}>
          {inbox.items.map((n) => (
            <tr key={n.id} class={n.read_at ? undefined : 'unread'} data-notification-id={n.id}>
              <td>
                {fmtDate(n.created_at)}
                {n.read_at ? null : (
                  <>
                    {' '}
                    <Badge tone="warn">unread</Badge>
                  </>
                )}
              </td>
              <td>{n.title}</td>
              <td class="text">{n.message}</td>
              <td>
                <code>{n.source_kind}</code>
              </td>
              <td>
                <Delivery channel="Telegram" status={n.telegram_status} />{' '}
                <Delivery channel="Live" status={n.ws_status} />
              </td>
              <td>
                {n.read_at ? null : (
                  <ActionButton
                    csrf={ctx.csrfToken}
                    api={`/api/notifications/${encodeURIComponent(n.id)}/read`}
                    label={`Mark “${n.title}” read`}
                    text="Mark read"
                  />
                )}
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {pages > 1 ? (
        <nav class="pagination" aria-label="Notification pages">
          {inbox.page > 1 ? (
            <a href={`/activity-center?npage=${inbox.page - 1}#notifications-h`}>Newer</a>
          ) : null}
          <span>{`Page ${inbox.page} of ${pages}`}</span>
          {inbox.page < pages ? (
            <a href={`/activity-center?npage=${inbox.page + 1}#notifications-h`}>Older</a>
          ) : null}
        </nav>
      ) : null}
    </section>
  );
}

export function ActivityPage(props: {
  ctx: PageContext;
  history: SyncHistoryEntry[];
  mine: AuditView[];
  audit: AuditView[] | null;
  filters: AuditFilters;
  inbox: NotificationList;
}) {
  const { ctx, filters } = props;
  return (
    <Layout ctx={ctx} title="Activity">
      <h1>Activity</h1>
      <nav aria-label="Sections" class="card">
        <a href="#sync-h">Sync history</a> · <a href="#mine-h">My activity</a> ·{' '}
        <a href="#notifications-h">Notifications</a>
        {props.audit ? (
          <>
            {' · '}
            <a href="#audit-h">Audit log</a>
          </>
        ) : null}
      </nav>
      <section class="card" aria-labelledby="sync-h">
        <h2 id="sync-h">Sync history</h2>
        {props.history.length === 0 ? (
          <p class="muted">No syncs recorded.</p>
        ) : (
          <DataTable headings={['When', 'Table', 'Source', 'Status', { label: 'Rows', num: true }, 'Error']}>
            {props.history.map((h) => (
              <tr key={h.id}>
                <td>{fmtDate(h.synced_at)}</td>
                <td>{h.table_id ?? <span class="muted">(source)</span>}</td>
                <td>{h.source}</td>
                <td>
                  <Badge tone={statusTone(h.status)}>{h.status}</Badge>
                </td>
                <td class="num">{fmtNum(h.rows)}</td>
                <td>{h.error ?? ''}</td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
      <NotificationsSection ctx={ctx} inbox={props.inbox} />
      <section class="card" aria-labelledby="mine-h">
        <h2 id="mine-h">My activity</h2>
        <AuditTable entries={props.mine} showUser={false} />
      </section>
      {props.audit ? (
        <section class="card" aria-labelledby="audit-h">
          <h2 id="audit-h">Audit log</h2>
          <form method="get" action="/activity-center#audit-h" aria-label="Filter the audit log">
            <div class="row">
              <div>
                <label for="audit-user">User id</label>
                <input id="audit-user" name="user" type="text" value={filters.user} maxLength={64} />
              </div>
              <div>
                <label for="audit-action">Action</label>
                <input id="audit-action" name="action" type="text" value={filters.action} maxLength={100} />
              </div>
              <div>
                <label for="audit-from">From date</label>
                <input id="audit-from" name="from" type="date" value={filters.from} />
              </div>
              <div class="shrink">
                <button type="submit">Filter</button>
              </div>
            </div>
          </form>
          <AuditTable entries={props.audit} showUser />
        </section>
      ) : null}
    </Layout>
  );
}

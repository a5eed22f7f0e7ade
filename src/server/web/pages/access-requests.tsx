import type { AccessRequest } from '../../../contract/index.js';
import { ActionButton, ApiForm, Badge, DataTable, fmtDate, statusTone } from '../components/bits.js';
import { Layout, type PageContext } from '../components/layout.js';

function TableCell(props: { request: AccessRequest }) {
  const { request } = props;
  return (
    <td>
      <a href={`/catalog/${encodeURIComponent(request.table_id)}`}>
        {request.table_name ?? request.table_id}
      </a>
    </td>
  );
}

function ReviewRow(props: { ctx: PageContext; request: AccessRequest; index: number }) {
  const { ctx, request } = props;
  const noteId = `note-${props.index}`;
  const ageDays = Math.floor((Date.now() - Date.parse(request.created_at)) / 86_400_000);
  return (
    <tr>
      <td>{request.user_email}</td>
      <TableCell request={request} />
      <td>{request.reason ?? ''}</td>
      <td>{ageDays === 0 ? 'today' : `${ageDays} d`}</td>
      <td>
        <ApiForm
          csrf={ctx.csrfToken}
          api={`/api/access-requests/${request.id}/approve`}
          label={`Review the request of ${request.user_email}`}
        >
          <label for={noteId}>Note (optional)</label>
          <input id={noteId} name="note" type="text" maxLength={1000} />
          <button
            type="submit"
            class="small"
            aria-label={`Approve ${request.user_email} for ${request.table_id}`}
          >
            Approve
          </button>{' '}
          <button
            type="submit"
            class="danger small"
            data-api={`/api/access-requests/${request.id}/deny`}
            aria-label={`Deny ${request.user_email} for ${request.table_id}`}
          >
            Deny
          </button>
        </ApiForm>
      </td>
    </tr>
  );
}

export function AccessRequestsPage(props: {
  ctx: PageContext;
  mine: AccessRequest[];
  pending: AccessRequest[] | null;
}) {
  const { ctx } = props;
  return (
    <Layout ctx={ctx} title="Access requests">
      <h1>Access requests</h1>
      {props.pending ? (
        <section class="card" aria-labelledby="review-h">
          <h2 id="review-h">Review ({props.pending.length} pending)</h2>
          {props.pending.length === 0 ? (
            <p class="muted">Nothing to review.</p>
          ) : (
            <DataTable headings={['Requester', 'Table', 'Reason', 'Age', 'Decision']}>
              {props.pending.map((request, i) => (
                <ReviewRow key={request.id} ctx={ctx} request={request} index={i} />
              ))}
            </DataTable>
          )}
        </section>
      ) : null}
      <section class="card" aria-labelledby="mine-h">
        <h2 id="mine-h">My requests</h2>
        {props.mine.length === 0 ? (
          <p class="muted">
            You have not requested access to any table. Locked tables in the <a href="/catalog">catalog</a>{' '}
            offer a request form.
          </p>
        ) : (
          <DataTable
            headings={[
              'Table',
              'Reason',
              'Status',
              'Reviewer',
              'Requested',
              'Reviewed',
              { label: 'Actions', quiet: true },
            ]}
          >
            {props.mine.map((request) => (
              <tr key={request.id}>
                <TableCell request={request} />
                <td>{request.reason ?? ''}</td>
                <td>
                  <Badge tone={statusTone(request.status)}>{request.status}</Badge>
                  {request.review_note ? <div class="muted">{request.review_note}</div> : null}
                </td>
                <td>{request.reviewed_by_email ?? ''}</td>
                <td>{fmtDate(request.created_at)}</td>
                <td>{fmtDate(request.reviewed_at)}</td>
                <td>
                  {request.status === 'pending' ? (
                    <ActionButton
                      csrf={ctx.csrfToken}
                      api={`/api/access-requests/${request.id}`}
                      method="DELETE"
                      label={`Cancel the request for ${request.table_id}`}
                      text="Cancel"
                    />
                  ) : null}
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
    </Layout>
  );
}

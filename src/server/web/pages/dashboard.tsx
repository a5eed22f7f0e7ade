import { Copyable, fmtDate, fmtNum } from '../components/bits.js';
import { Layout, type PageContext } from '../components/layout.js';

export interface DashboardData {
  serverUrl: string;
  tables: { id: string; name: string; rows?: number | null; updated?: string | null }[];
  /** Readable tables whose data is older than the freshness window or not yet published. */
  stale: { id: string; name: string; updated?: string | null }[];
  admin?: { pendingRequests: number; runningJobs: { id: string; kind: string; source: string | null }[] };
  /** The three newest mandatory memory items for the user's audience. */
  mandatory?: { id: string; title: string; content: string }[];
}

/** Shell quoting for a command the user pastes: single quotes, with embedded ones closed and reopened. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'"'"'`)}'`;
}

export function DashboardPage(props: { ctx: PageContext; data: DashboardData }) {
  const { ctx, data } = props;
  const totalRows = data.tables.reduce((sum, t) => sum + (t.rows ?? 0), 0);
  const newest =
    data.tables
      .map((t) => t.updated ?? '')
      .sort()
      .at(-1) || null;
  const example = data.tables[0]?.id ?? 'orders';
  const commands = [
    'npm install -g agnes-analyst',
    `da auth login --server ${shellQuote(data.serverUrl)}`,
    'da sync',
    `da query ${shellQuote(`SELECT * FROM "${example}" LIMIT 10`)}`,
    'da skills install',
  ];
  return (
    <Layout ctx={ctx} title="Dashboard">
      <h1>Welcome, {ctx.user?.name || ctx.user?.email}</h1>
      <div class="grid">
        <section class="card" aria-labelledby="start-h">
          <h2 id="start-h">Get started</h2>
          <p class="muted">Run these commands to work with this server's data locally:</p>
          <ol class="commands">
            {commands.map((command, i) => (
              <li key={command}>
                <Copyable id={`cmd-${i}`} text={command} />
              </li>
            ))}
          </ol>
        </section>
        <section class="card" aria-labelledby="data-h">
          <h2 id="data-h">My data</h2>
          <p>
            <span class="stat">{fmtNum(data.tables.length)}</span> readable tables ·{' '}
            <span class="stat">{fmtNum(totalRows)}</span> rows
          </p>
          <p class="muted">Newest update: {fmtDate(newest)}</p>
          {data.stale.length > 0 ? (
            <>
              <h3>Not fresh</h3>
              <ul>
                {data.stale.map((t) => (
                  <li key={t.id}>
                    <a href={`/catalog/${encodeURIComponent(t.id)}`}>{t.name}</a> — last update{' '}
                    {fmtDate(t.updated)}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p>All your tables are fresh.</p>
          )}
          <p>
            <a href="/catalog">Browse the catalog</a>
          </p>
        </section>
        {data.mandatory && data.mandatory.length > 0 ? (
          <section class="card" aria-labelledby="mandatory-h">
            <h2 id="mandatory-h">Mandatory knowledge</h2>
            <ul>
              {data.mandatory.map((item) => (
                <li key={item.id}>
                  <strong>{item.title}</strong>
                  <div class="muted text">
                    {item.content.length > 200 ? `${item.content.slice(0, 200)}…` : item.content}
                  </div>
                </li>
              ))}
            </ul>
            <p>
              <a href="/corporate-memory">All corporate memory</a>
            </p>
          </section>
        ) : null}
        {data.admin ? (
          <section class="card" aria-labelledby="admin-h">
            <h2 id="admin-h">Administration</h2>
            <p>
              <a href="/access-requests">{fmtNum(data.admin.pendingRequests)} pending access requests</a>
            </p>
            <h3>Running jobs</h3>
            {data.admin.runningJobs.length === 0 ? (
              <p class="muted">None.</p>
            ) : (
              <ul>
                {data.admin.runningJobs.map((job) => (
                  <li key={job.id}>
                    {job.kind} {job.source ?? ''} <code>{job.id}</code>
                  </li>
                ))}
              </ul>
            )}
            <p>
              <a href="/admin/tables">Manage tables and rebuilds</a>
            </p>
          </section>
        ) : null}
      </div>
    </Layout>
  );
}

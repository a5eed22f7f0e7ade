import { Layout, type PageContext } from '../components/layout.js';

const LIMITS = [100, 1000, 10_000];

/** The SQL console (09 §2 pages): the `sql` browser module runs queries through `POST /api/query`. */
export function SqlPage(props: {
  ctx: PageContext;
  tables: { id: string; name: string }[];
  initial: string;
  maxLimit: number;
}) {
  const { ctx } = props;
  const limits = LIMITS.filter((l) => l <= props.maxLimit);
  return (
    <Layout ctx={ctx} title="SQL console" scripts={['sql']}>
      <h1>SQL console</h1>
      <div class="sql-layout">
        <aside class="card" aria-labelledby="tables-h">
          <h2 id="tables-h">Your tables</h2>
          {props.tables.length === 0 ? (
            <p class="muted">No readable tables.</p>
          ) : (
            <ul>
              {props.tables.map((t) => (
                <li key={t.id}>
                  <button type="button" data-insert={t.id} aria-label={`Insert ${t.id} into the query`}>
                    {t.id}
                  </button>
                </li>
              ))}
            </ul>
          )}
          <details>
            <summary>Recent queries</summary>
            <ul id="history" />
          </details>
        </aside>
        <div>
          <form id="sql-form" class="card" aria-label="Query">
            <label for="sql">SQL</label>
            <textarea
              id="sql"
              name="sql"
              spellcheck={false}
              aria-describedby="sql-hint"
              required
              maxLength={100_000}
            >
              {props.initial}
            </textarea>
            <p id="sql-hint" class="muted">
              Ctrl+Enter (⌘+Enter) runs the query. Tab indents; press Esc first to move focus on with Tab.
            </p>
            <div class="row">
              <div class="shrink">
                <label for="limit">Row limit</label>
                <select id="limit" name="limit">
                  {limits.map((l) => (
                    <option key={l} value={l} selected={l === 1000}>
                      {l.toLocaleString('en-US')}
                    </option>
                  ))}
                </select>
              </div>
              <div class="shrink">
                <button type="submit">Run</button>{' '}
                <button type="button" class="secondary" id="export">
                  Export CSV
                </button>
              </div>
            </div>
          </form>
          <div id="error" class="notice error" role="alert" hidden />
          <p id="summary" role="status" aria-live="polite" />
          <div id="results" class="results table-wrap" />
        </div>
      </div>
    </Layout>
  );
}

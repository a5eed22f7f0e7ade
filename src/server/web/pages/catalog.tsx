import type { CatalogTable } from '../../../contract/index.js';
import { ApiForm, Badge, ChoiceSelect, DataTable, fmtDate, fmtNum } from '../components/bits.js';
import { Layout, type PageContext } from '../components/layout.js';

export interface CatalogFilters {
  search: string;
  source: string;
  dataset: string;
  access: 'all' | 'readable' | 'locked';
}

/** The request-access form of a locked table (catalog list and table page). */
export function RequestAccess(props: {
  ctx: PageContext;
  tableId: string;
  tableName: string;
  idSuffix: string;
}) {
  const id = `reason-${props.idSuffix}`;
  return (
    <details>
      <summary>Request access</summary>
      <ApiForm
        csrf={props.ctx.csrfToken}
        api="/api/access-requests"
        label={`Request access to ${props.tableName}`}
      >
        <input type="hidden" name="table_id" value={props.tableId} />
        <label for={id}>Why do you need {props.tableName}?</label>
        <textarea id={id} name="reason" maxLength={1000} rows={3} />
        <button type="submit">Send request</button>
      </ApiForm>
    </details>
  );
}

function AccessCell(props: { ctx: PageContext; table: CatalogTable; index: number }) {
  const { table } = props;
  if (table.access === 'read') return <Badge tone="ok">Readable</Badge>;
  if (table.access === 'pending') return <Badge tone="warn">Pending</Badge>;
  return (
    <>
      <Badge>
        <span class="lock">Locked</span>
      </Badge>
      <RequestAccess
        ctx={props.ctx}
        tableId={table.id}
        tableName={table.name}
        idSuffix={String(props.index)}
      />
    </>
  );
}

export function CatalogPage(props: {
  ctx: PageContext;
  tables: CatalogTable[];
  filters: CatalogFilters;
  sources: string[];
  datasets: string[];
}) {
  const { ctx, tables, filters } = props;
  const byDataset = new Map<string, CatalogTable[]>();
  for (const table of tables) byDataset.set(table.dataset, [...(byDataset.get(table.dataset) ?? []), table]);
  let index = 0;
  return (
    <Layout ctx={ctx} title="Catalog">
      <h1>Catalog</h1>
      <form method="get" action="/catalog" class="card" aria-label="Filter tables">
        <div class="row">
          <div>
            <label for="q">Search</label>
            <input id="q" name="q" type="search" value={filters.search} maxLength={200} />
          </div>
          <div>
            <ChoiceSelect
              id="source"
              name="source"
              label="Source"
              anyLabel="All sources"
              values={props.sources}
              selected={filters.source}
            />
          </div>
          <div>
            <ChoiceSelect
              id="dataset"
              name="dataset"
              label="Dataset"
              anyLabel="All datasets"
              values={props.datasets}
              selected={filters.dataset}
            />
          </div>
          <div>
            <label for="access">Access</label>
            <select id="access" name="access">
              <option value="all" selected={filters.access === 'all'}>
                All
              </option>
              <option value="readable" selected={filters.access === 'readable'}>
                Readable
              </option>
              <option value="locked" selected={filters.access === 'locked'}>
                Locked
              </option>
            </select>
          </div>
          <div class="shrink">
            <button type="submit">Filter</button>
          </div>
        </div>
      </form>
      <p class="muted" role="status">
        {fmtNum(tables.length)} tables
      </p>
      {[...byDataset.entries()].map(([dataset, rows]) => (
        <section class="card" key={dataset} aria-label={`Dataset ${dataset}`}>
          <h2>{dataset}</h2>
          <DataTable
            headings={['Table', 'Description', 'Source', { label: 'Rows', num: true }, 'Updated', 'Access']}
          >
            {rows.map((table) => {
              index += 1;
              return (
                <tr key={table.id}>
                  <td>
                    <a href={`/catalog/${encodeURIComponent(table.id)}`}>{table.name}</a>
                    <div class="muted">
                      <code>{table.id}</code>
                    </div>
                  </td>
                  <td>{table.description}</td>
                  <td>
                    {table.source} <Badge>{table.query_mode}</Badge>
                  </td>
                  <td class="num">{table.access === 'read' ? fmtNum(table.rows) : ''}</td>
                  <td>{table.access === 'read' ? fmtDate(table.updated) : ''}</td>
                  <td>
                    <AccessCell ctx={ctx} table={table} index={index} />
                  </td>
                </tr>
              );
            })}
          </DataTable>
        </section>
      ))}
    </Layout>
  );
}

import type { RowPolicyView } from '../../../contract/index.js';
import type { Job, RegistryEntry, SyncState } from '../../../core/state/repositories/index.js';
import {
  ActionButton,
  ApiForm,
  Badge,
  ChoiceSelect,
  DataTable,
  Facts,
  fmtDate,
  fmtNum,
  Options,
  statusTone,
} from '../components/bits.js';
import { Layout, type PageContext } from '../components/layout.js';
import { type PolicyChoices, PolicyForm, PolicyList, PreviewPanel } from './admin-policies.js';

function Checkbox(props: { id: string; name: string; label: string; checked?: boolean }) {
  return (
    <label class="inline" for={props.id}>
      <input id={props.id} name={props.name} type="checkbox" checked={props.checked} /> {props.label}
    </label>
  );
}

const policyCount = (n: number) => (n === 1 ? '1 row policy' : `${n} row policies`);

function EditTable(props: { ctx: PageContext; table: RegistryEntry }) {
  const { table } = props;
  const id = (field: string) => `edit-${table.id}-${field}`;
  return (
    <details>
      <summary>Edit {table.id}</summary>
      <ApiForm
        csrf={props.ctx.csrfToken}
        api={`/api/admin/registry/${table.id}`}
        method="PUT"
        label={`Edit ${table.id}`}
      >
        <label for={id('name')}>Name</label>
        <input id={id('name')} name="name" type="text" value={table.name} required maxLength={200} />
        <label for={id('description')}>Description</label>
        <textarea id={id('description')} name="description" data-type="nullable" rows={2} maxLength={2000}>
          {table.description ?? ''}
        </textarea>
        <label for={id('bucket')}>Bucket</label>
        <input id={id('bucket')} name="bucket" type="text" value={table.bucket} maxLength={200} />
        <label for={id('pk')}>Primary key (comma list)</label>
        <input
          id={id('pk')}
          name="primary_key"
          type="text"
          data-type="nullable"
          value={table.primary_key ?? ''}
        />
        <label for={id('schedule')}>Sync schedule</label>
        <input
          id={id('schedule')}
          name="sync_schedule"
          type="text"
          data-type="nullable"
          value={table.sync_schedule ?? ''}
        />
        <Checkbox id={id('public')} name="is_public" label="Public" checked={table.is_public} />
        <Checkbox
          id={id('disc')}
          name="is_discoverable"
          label="Discoverable"
          checked={table.is_discoverable}
        />
        <button type="submit">Save {table.id}</button>
      </ApiForm>
    </details>
  );
}

export function AdminTablesPage(props: {
  ctx: PageContext;
  tables: RegistryEntry[];
  /** Policies per table: a table with any is bound (12 §1). */
  policyCounts: Map<string, number>;
  states: Map<string, SyncState>;
  sources: string[];
  jobs: Job[];
}) {
  const { ctx, tables, states, sources } = props;
  return (
    <Layout ctx={ctx} title="Tables" scripts={['admin-tables']}>
      <h1>Tables</h1>
      <div class="grid">
        <section class="card" aria-labelledby="ops-h">
          <h2 id="ops-h">Rebuild and sync</h2>
          <ApiForm csrf={ctx.csrfToken} api="/api/admin/rebuild" query show="*" label="Rebuild">
            <ChoiceSelect
              id="rebuild-source"
              name="source"
              label="Source"
              anyLabel="All sources"
              values={sources}
            />
            <button type="submit">Rebuild</button>
            <div data-result hidden>
              <h3>Rebuild report</h3>
              <pre data-result-value tabIndex={-1} />
              <a href="/admin/tables">Refresh the list</a>
            </div>
          </ApiForm>
          <ApiForm csrf={ctx.csrfToken} api="/api/sync/trigger" poll label="Sync now">
            <label for="sync-source">Sync source</label>
            <select id="sync-source" name="source">
              <Options values={sources} />
            </select>
            <button type="submit">Sync now</button>
          </ApiForm>
        </section>
        <section class="card" aria-labelledby="discover-h">
          <h2 id="discover-h">Discover</h2>
          <form id="discover" aria-label="Discover tables">
            <label for="discover-source">Source</label>
            <select id="discover-source" name="source">
              <Options values={sources} />
            </select>
            <button type="submit" class="secondary">
              Discover tables
            </button>
            <p class="status" role="status" aria-live="polite" data-status />
          </form>
          <form id="discovered" hidden aria-label="Register discovered tables">
            <fieldset>
              <legend>Tables offered by the source</legend>
              <div data-list />
            </fieldset>
            <button type="submit">Register selected</button>
            <p class="status" role="status" aria-live="polite" data-status />
          </form>
        </section>
      </div>
      <section class="card" aria-labelledby="sources-h">
        <h2 id="sources-h">Sources</h2>
        <div id="sources" data-status-target>
          <p class="muted">Loading…</p>
        </div>
      </section>
      <section class="card" aria-labelledby="registry-h">
        <h2 id="registry-h">Registry ({tables.length})</h2>
        <DataTable
          headings={[
            'Table',
            'Source',
            'Bucket',
            'Mode',
            'Strategy',
            'Access',
            'Status',
            { label: 'Rows', num: true },
            { label: 'Actions', quiet: true },
          ]}
        >
          {tables.map((t) => {
            const state = states.get(t.id);
            return (
              <tr key={t.id}>
                <td>
                  <a href={`/admin/tables/${encodeURIComponent(t.id)}`}>{t.name}</a>
                  <div class="muted">
                    <code>{t.id}</code> · <a href={`/catalog/${encodeURIComponent(t.id)}`}>catalog</a>
                  </div>
                  <EditTable ctx={ctx} table={t} />
                </td>
                <td>{t.source}</td>
                <td>{t.bucket}</td>
                <td>{t.query_mode}</td>
                <td>
                  {t.sync_strategy}
                  {t.sync_schedule ? <div class="muted">{t.sync_schedule}</div> : null}
                </td>
                <td>
                  {t.is_public ? <Badge>public</Badge> : null}{' '}
                  {t.is_discoverable ? <Badge>discoverable</Badge> : <Badge>hidden</Badge>}
                  {props.policyCounts.has(t.id) ? (
                    <>
                      {' '}
                      <a href={`/admin/tables/${encodeURIComponent(t.id)}`}>
                        <Badge tone="warn">{policyCount(props.policyCounts.get(t.id) ?? 0)}</Badge>
                      </a>
                    </>
                  ) : null}
                </td>
                <td>
                  <Badge tone={statusTone(state?.status ?? 'pending')}>{state?.status ?? 'not synced'}</Badge>
                </td>
                <td class="num">{fmtNum(state?.rows)}</td>
                <td>
                  <ActionButton
                    csrf={ctx.csrfToken}
                    api={`/api/admin/registry/${t.id}`}
                    method="DELETE"
                    confirm={`Unregister ${t.id}? Its grants and pending requests are removed.`}
                    danger
                    label={`Unregister ${t.id}`}
                    text="Unregister"
                  />
                </td>
              </tr>
            );
          })}
        </DataTable>
      </section>
      <section class="card" aria-labelledby="register-h">
        <h2 id="register-h">Register a table</h2>
        <ApiForm csrf={ctx.csrfToken} api="/api/admin/register-table" label="Register a table">
          <div class="row">
            <div>
              <label for="reg-name">Name</label>
              <input id="reg-name" name="name" type="text" required maxLength={200} />
            </div>
            <div>
              <label for="reg-id">Id (optional)</label>
              <input id="reg-id" name="id" type="text" pattern="[a-z][a-z0-9_]{0,63}" />
            </div>
            <div>
              <label for="reg-source">Source</label>
              <select id="reg-source" name="source" required>
                <Options values={sources} />
              </select>
            </div>
            <div>
              <label for="reg-table">Source table</label>
              <input id="reg-table" name="source_table" type="text" maxLength={500} />
            </div>
            <div>
              <label for="reg-bucket">Bucket</label>
              <input id="reg-bucket" name="bucket" type="text" maxLength={200} />
            </div>
            <div>
              <label for="reg-mode">Query mode</label>
              <select id="reg-mode" name="query_mode">
                <option value="">the source's default</option>
                <option value="local">local</option>
                <option value="remote">remote</option>
              </select>
            </div>
            <div>
              <label for="reg-strategy">Sync strategy</label>
              <select id="reg-strategy" name="sync_strategy">
                <option value="full_refresh">full_refresh</option>
                <option value="incremental">incremental</option>
                <option value="partitioned">partitioned</option>
              </select>
            </div>
            <div>
              <label for="reg-pk">Primary key (comma list)</label>
              <input id="reg-pk" name="primary_key" type="text" maxLength={2000} />
            </div>
          </div>
          <label for="reg-desc">Description</label>
          <textarea id="reg-desc" name="description" rows={2} maxLength={2000} />
          <Checkbox id="reg-public" name="is_public" label="Public" />
          <Checkbox id="reg-disc" name="is_discoverable" label="Discoverable" checked />
          <Checkbox id="reg-sync" name="sync_now" label="Sync now" />
          <button type="submit">Register</button>
        </ApiForm>
      </section>
      <section class="card" aria-labelledby="jobs-h">
        <h2 id="jobs-h">Recent jobs</h2>
        <DataTable headings={['Job', 'Kind', 'Source', 'Status', 'Created', 'Finished', 'Error']}>
          {props.jobs.map((job) => (
            <tr key={job.id}>
              <td>
                <code>{job.id}</code>
              </td>
              <td>{job.kind}</td>
              <td>{job.source ?? ''}</td>
              <td>
                <Badge tone={statusTone(job.status)}>{job.status}</Badge>
              </td>
              <td>{fmtDate(job.created_at)}</td>
              <td>{fmtDate(job.finished_at)}</td>
              <td>{job.error ?? ''}</td>
            </tr>
          ))}
        </DataTable>
      </section>
    </Layout>
  );
}

/** `/admin/tables/{id}`: one registered table and its row and column policies (12 §5). */
export function AdminTablePage(props: {
  ctx: PageContext;
  table: RegistryEntry;
  state: SyncState | undefined;
  policies: RowPolicyView[];
  editing: RowPolicyView | null;
  choices: PolicyChoices;
}) {
  const { ctx, table, policies } = props;
  return (
    <Layout ctx={ctx} title={`Table ${table.name}`} scripts={['admin-policies']}>
      <h1>Table {table.name}</h1>
      <section class="card" aria-label="Table facts">
        <Facts
          facts={
            [
              ['Id', table.id],
              ['Source', table.source],
              ['Bucket', table.bucket || '—'],
              ['Mode', table.query_mode],
              ['Status', props.state?.status ?? 'not synced'],
              ['Rows', fmtNum(props.state?.rows)],
            ] as [string, string][]
          }
        />
        <p>
          <a href={`/catalog/${encodeURIComponent(table.id)}`}>Open in the catalog</a> ·{' '}
          <a href="/admin/tables">All tables</a>
        </p>
      </section>
      <section class="card" aria-labelledby="policies-h">
        <h2 id="policies-h">Policies ({policies.length})</h2>
        {policies.length > 0 ? (
          <p class="muted">
            Readers see the rows of any enabled policy that applies to them and lose every column any of them
            masks; a reader no enabled policy applies to sees no rows. Admins are never bound.
          </p>
        ) : null}
        <PolicyList ctx={ctx} tableId={table.id} policies={policies} choices={props.choices} />
      </section>
      <PolicyForm tableId={table.id} policy={props.editing} choices={props.choices} />
      <PreviewPanel users={props.choices.users} />
    </Layout>
  );
}

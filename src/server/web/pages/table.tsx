import type { ServedProfile, SyncHistoryEntry, TableDetail, TablePolicy } from '../../../contract/index.js';
import { hasRole } from '../../../core/access/roles.js';
import {
  ActionButton,
  Badge,
  DataTable,
  Facts,
  fmtBytes,
  fmtDate,
  fmtNum,
  Histogram,
  PercentBar,
  statusTone,
} from '../components/bits.js';
import { Layout, type PageContext } from '../components/layout.js';
import { maskText, PolicyError } from './admin-policies.js';
import { RequestAccess } from './catalog.js';

type Column = ServedProfile['columns'][number];

function maskOf(policy: TablePolicy): Map<string, string> {
  return new Map(
    policy && 'masked_columns' in policy ? policy.masked_columns.map((m) => [m.column, m.mask]) : [],
  );
}

/** A masked column's mark beside its name: its values are hidden from this reader. */
function MaskBadge(props: { mask: string | undefined }) {
  return props.mask ? <Badge tone="warn">{`masked (${props.mask})`}</Badge> : null;
}

/** What row policies do to this table for the caller (12 §5). */
function PolicyNotice(props: { policy: TablePolicy; tableId: string }) {
  const { policy } = props;
  if (!policy) return null;
  if ('policies' in policy)
    return (
      <section class="card" aria-labelledby="policy-h">
        <h2 id="policy-h">Row policies</h2>
        <p class="muted">
          Readers of this table are bound by its policies; as an admin you see every row.{' '}
          <a href={`/admin/tables/${encodeURIComponent(props.tableId)}`}>Manage the policies</a>
        </p>
        <ul>
          {policy.policies.map((p) => (
            <li key={p.id}>
              <strong>{p.name}</strong> {p.enabled ? null : <Badge tone="warn">disabled</Badge>}{' '}
              {p.row_filter === null ? <span class="muted">all rows</span> : <code>{p.row_filter}</code>}
              {p.masked_columns.length > 0 ? (
                <span class="muted"> · masks {maskText(p.masked_columns)}</span>
              ) : null}
              <PolicyError policy={p} />
            </li>
          ))}
        </ul>
      </section>
    );
  const masked =
    policy.masked_columns.length > 0 ? ` Masked columns: ${maskText(policy.masked_columns)}.` : '';
  return policy.rows_visible === 'none' ? (
    <p class="notice" role="note">
      The table's owner has not given you any rows of this table: you see its columns but no rows.
    </p>
  ) : (
    <p class="notice" role="note">
      Rows filtered by policy: {policy.names.join(', ')}.{masked}
    </p>
  );
}
type CatalogColumn = NonNullable<TableDetail['columns']>[number];

/** A column's description and tags from the external catalog (07 §6), as escaped text. */
function ColumnNotes(props: { column: CatalogColumn | undefined }) {
  const { column } = props;
  if (!column || (!column.description && column.tags.length === 0)) return null;
  return (
    <>
      {column.description ? <p class="muted text">{column.description}</p> : null}
      {column.tags.map((tag) => (
        <Badge key={tag}>{tag}</Badge>
      ))}
    </>
  );
}

/** Owners, tier, tags and the link of the table in OpenMetadata, when it has an entry there. */
function CatalogFacts(props: { table: TableDetail }) {
  const { owners, tags, tier, catalog_link } = props.table;
  if (!catalog_link) return null;
  return (
    <section aria-label="OpenMetadata">
      <dl class="facts">
        <div>
          <dt class="muted">Owners</dt>
          <dd>{owners && owners.length > 0 ? owners.join(', ') : '—'}</dd>
        </div>
        <div>
          <dt class="muted">Tier</dt>
          <dd>{tier ?? '—'}</dd>
        </div>
      </dl>
      {tags && tags.length > 0 ? (
        <p>
          {tags.map((tag) => (
            <Badge key={tag}>{tag}</Badge>
          ))}
        </p>
      ) : null}
      <p>
        <a href={catalog_link} rel="noopener noreferrer" target="_blank">
          Open in OpenMetadata
        </a>
      </p>
    </section>
  );
}

function ColumnStats(props: { column: Column }) {
  const c = props.column;
  const facts: [string, string][] = [
    ['Nulls', fmtNum(c.null_count)],
    ['Unique values', fmtNum(c.unique_count)],
  ];
  if (c.type_category === 'NUMERIC')
    facts.push(
      ['Min', String(c.min ?? '—')],
      ['Max', String(c.max ?? '—')],
      ['Mean', String(c.mean ?? '—')],
      ['Median', String(c.median ?? '—')],
    );
  if (c.type_category === 'DATE' || c.type_category === 'TIMESTAMP')
    facts.push(['Earliest', c.earliest ?? '—'], ['Latest', c.latest ?? '—']);
  if (c.type_category === 'STRING') facts.push(['Length', `${c.min_length ?? '—'}–${c.max_length ?? '—'}`]);
  if (c.type_category === 'BOOLEAN') facts.push(['True', `${c.true_pct}%`]);
  const histogram = 'histogram' in c ? c.histogram : undefined;
  const top = c.type_category === 'STRING' ? c.top_values : undefined;
  return (
    <details>
      <summary>Details of {c.name}</summary>
      <Facts facts={facts} />
      {histogram ? (
        <Histogram labels={histogram.labels} counts={histogram.counts} label={`Histogram of ${c.name}`} />
      ) : null}
      {top && top.length > 0 ? (
        <ul>
          {top.map((t) => (
            <li key={t.value}>
              {t.value} — {fmtNum(t.count)} ({t.pct}%)
            </li>
          ))}
        </ul>
      ) : null}
    </details>
  );
}

function ProfileSection(props: {
  profile: ServedProfile;
  columns: CatalogColumn[];
  masks: Map<string, string>;
}) {
  const { profile } = props;
  const catalogColumn = new Map(props.columns.map((c) => [c.name, c]));
  const sampleColumns = Object.keys(profile.sample_rows[0] ?? {});
  const profiled = new Set(profile.columns.map((c) => c.name));
  // A bound reader's profile leaves masked columns out: they get name and type only (12 §3).
  const maskedOnly = [...props.masks].filter(([name]) => !profiled.has(name));
  return (
    <>
      {profile.stale ? (
        <p class="notice" role="status">
          This profile was taken before the latest data; it may be out of date.
        </p>
      ) : null}
      <section class="card" aria-labelledby="cols-h">
        <h2 id="cols-h">Columns</h2>
        <DataTable headings={['Column', 'Type', 'Completeness', { label: 'Unique %', num: true }, 'Alerts']}>
          {profile.columns.map((c) => (
            <tr key={c.name}>
              <td>
                {c.name}
                {c.is_primary_key ? <Badge>key</Badge> : null}
                <MaskBadge mask={props.masks.get(c.name)} />
                <ColumnNotes column={catalogColumn.get(c.name)} />
                <ColumnStats column={c} />
              </td>
              <td>{c.type}</td>
              <td>
                <PercentBar pct={c.completeness_pct} label={`${c.completeness_pct}% complete`} />{' '}
                {c.completeness_pct}%
              </td>
              <td class="num">{c.unique_pct}</td>
              <td>
                {c.alerts.map((a) => (
                  <Badge key={a} tone="warn">
                    {a}
                  </Badge>
                ))}
              </td>
            </tr>
          ))}
          {maskedOnly.map(([name, mask]) => (
            <tr key={name}>
              <td>
                {name} <MaskBadge mask={mask} />
              </td>
              <td>{catalogColumn.get(name)?.type ?? ''}</td>
              <td colSpan={3} class="muted">
                No statistics: the values are masked for you.
              </td>
            </tr>
          ))}
        </DataTable>
      </section>
      <section class="card" aria-labelledby="alerts-h">
        <h2 id="alerts-h">Alerts</h2>
        {profile.alerts.length === 0 ? (
          <p class="muted">No alerts.</p>
        ) : (
          <ul>
            {profile.alerts.map((a) => (
              <li key={`${a.column}-${a.type}`}>
                <Badge tone="warn">{a.type}</Badge> {a.message}
              </li>
            ))}
          </ul>
        )}
      </section>
      {profile.sample_rows.length > 0 ? (
        <section class="card" aria-labelledby="sample-h">
          <h2 id="sample-h">Sample rows</h2>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  {sampleColumns.map((name) => (
                    <th scope="col" key={name}>
                      {name}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {profile.sample_rows.map((row, i) => (
                  <tr key={i}>
                    {sampleColumns.map((name) => {
                      const value = row[name];
                      return (
                        <td key={name}>
                          {value === null || value === undefined ? <span class="null">NULL</span> : value}
                        </td>
                      );
                    })}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      ) : null}
    </>
  );
}

export function TablePage(props: {
  ctx: PageContext;
  table: TableDetail;
  profile: ServedProfile | null;
  history: SyncHistoryEntry[];
}) {
  const { ctx, table, profile } = props;
  const readable = table.access === 'read';
  const role = ctx.user?.role ?? 'viewer';
  const sql = `SELECT * FROM "${table.id}" LIMIT 100`;
  const policy = table.policy ?? null;
  const masks = maskOf(policy);
  return (
    <Layout ctx={ctx} title={table.name} scripts={readable ? ['table'] : []}>
      <h1>{table.name}</h1>
      <section class="card" aria-label="Table facts">
        <p class="text">{table.description || <span class="muted">No description.</span>}</p>
        <Facts
          facts={
            [
              ['Id', table.id],
              ['Source', `${table.source} (${table.source_type})`],
              ['Dataset', table.dataset],
              ['Mode', table.query_mode],
              ...(readable
                ? [
                    ['Rows', fmtNum(table.rows)],
                    ['Size', fmtBytes(table.size_bytes)],
                    ['Last update', fmtDate(table.updated)],
                  ]
                : []),
            ] as [string, string][]
          }
        />
        <CatalogFacts table={table} />
        {readable ? (
          <>
            <h2>Use it</h2>
            <pre>{`da sync\nda query '${sql.replaceAll("'", `'"'"'`)}'`}</pre>
            {hasRole(role, 'analyst') ? (
              <>
                <button type="button" class="secondary" id="preview" data-table={table.id}>
                  Preview 20 rows
                </button>{' '}
                <a class="button secondary" href={`/sql?q=${encodeURIComponent(sql)}`}>
                  Open in SQL console
                </a>
              </>
            ) : null}{' '}
            {role === 'admin' && table.query_mode === 'local' ? (
              <ActionButton
                csrf={ctx.csrfToken}
                api={`/api/catalog/profile/${encodeURIComponent(table.id)}/refresh`}
                label="Refresh profile"
                text="Refresh profile"
              />
            ) : null}
          </>
        ) : table.access === 'pending' ? (
          <p>
            <Badge tone="warn">Pending</Badge> Your access request is waiting for review.
          </p>
        ) : (
          <RequestAccess ctx={ctx} tableId={table.id} tableName={table.name} idSuffix="table" />
        )}
      </section>
      {readable ? <PolicyNotice policy={policy} tableId={table.id} /> : null}
      {readable ? (
        <section id="preview-rows" class="results table-wrap" aria-live="polite" aria-label="Preview rows" />
      ) : null}
      {readable && profile ? (
        <ProfileSection profile={profile} columns={table.columns ?? []} masks={masks} />
      ) : null}
      {readable && !profile ? <p class="muted">This table has no profile yet.</p> : null}
      {readable && !profile && table.columns && table.columns.length > 0 ? (
        <section class="card" aria-labelledby="cols-h">
          <h2 id="cols-h">Columns</h2>
          <DataTable headings={['Column', 'Type']}>
            {table.columns.map((c) => (
              <tr key={c.name}>
                <td>
                  {c.name} <MaskBadge mask={masks.get(c.name)} />
                  <ColumnNotes column={c} />
                </td>
                <td>{c.type}</td>
              </tr>
            ))}
          </DataTable>
        </section>
      ) : null}
      {readable ? (
        <section class="card" aria-labelledby="hist-h">
          <h2 id="hist-h">Sync history</h2>
          {props.history.length === 0 ? (
            <p class="muted">No syncs recorded.</p>
          ) : (
            <DataTable headings={['When', 'Status', { label: 'Rows', num: true }, 'Error']}>
              {props.history.map((h) => (
                <tr key={h.id}>
                  <td>{fmtDate(h.synced_at)}</td>
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
      ) : null}
    </Layout>
  );
}

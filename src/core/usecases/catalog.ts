import type {
  CatalogAccess,
  CatalogTable,
  MetricSummary,
  Profile,
  ServedProfile,
  TableDetail,
  TablePolicy,
} from '../../contract/index.js';
import { type AccessView, loadAccessView } from '../access/access.js';
import { datasetOf, type Principal } from '../access/decide.js';
import { describeParquet } from '../catalog/columns.js';
import { type CatalogEnricher, columnEnrichment, type TableEnrichment } from '../catalog/enrichment.js';
import { listMetrics, type MetricDefinition, readMetric } from '../catalog/metrics.js';
import { AgnesError } from '../errors.js';
import type { JobRunner } from '../jobs/runner.js';
import { type BoundTable, boundTablesOf, type PolicyEnforcement, sliceTableOf } from '../policies/enforce.js';
import { withoutMaskedColumns } from '../policies/slice-profiles.js';
import type { RegistryEntry, Repositories, SyncState, TableProfile } from '../state/repositories/index.js';

/**
 * The catalog use cases (03 §7): what tables exist for one caller, one table's detail, its stored
 * profile and the metric definitions, decided through the one access function. The HTTP routes,
 * the pages and any later front end (MCP) call these and only shape the answer.
 */

/** What the catalog use cases read: the state store, the data directory and the external catalog. */
export interface CatalogDeps {
  repos: Repositories;
  dataDir: string;
  /** Owners, tags, tier and descriptions from an external catalog (07 §6), when one is configured. */
  catalogEnricher?: CatalogEnricher | null;
  /** Row policies (12 §3): a bound reader's figures and profile come from their slice. */
  policies?: PolicyEnforcement;
}

export interface CatalogQuery {
  search?: string;
  source?: string;
  dataset?: string;
  include_locked?: boolean;
}

const tableNotFound = () => new AgnesError('not_found', 'table not found');
const tableForbidden = () => new AgnesError('table_forbidden', 'you do not have read access to this table');

/** Table ids the caller has a pending access request for (at most `max_pending_access_requests`). */
async function pendingTables(repos: Repositories, userId: string): Promise<Set<string>> {
  const page = await repos.accessRequests.list(
    { status: 'pending', user_id: userId },
    { page: 1, per_page: 200 },
  );
  return new Set(page.items.map((r) => r.table_id));
}

function accessOf(view: AccessView, tableId: string, pending: ReadonlySet<string>): CatalogAccess {
  if (view.canRead(tableId).allowed) return 'read';
  return pending.has(tableId) ? 'pending' : 'none';
}

/** Loads the access view and the catalog facts of one table; 404 unless the caller may see it. */
async function visibleTable(repos: Repositories, principal: Principal, tableId: string) {
  const view = await loadAccessView(repos, principal);
  const registry = await repos.registry.get(tableId);
  // Unregistered ids are not in the catalog, for admins too; the rest by the visibility rule.
  if (!registry || !view.isVisible(tableId)) throw tableNotFound();
  return { view, registry };
}

/** The catalog list of one caller (03 §7): readable tables, and with `include_locked` discoverable ones. */
export async function listCatalog(
  { repos, catalogEnricher, policies }: CatalogDeps,
  principal: Principal,
  query: CatalogQuery,
): Promise<CatalogTable[]> {
  const { search, source, dataset, include_locked } = query;
  const [view, registry, states, profiles, pending] = await Promise.all([
    loadAccessView(repos, principal),
    repos.registry.list(),
    repos.syncState.listStates(),
    repos.profiles.summaries(),
    pendingTables(repos, principal.id),
  ]);
  const stateOf = new Map(states.map((s) => [s.table_id, s]));
  const profiled = new Set(profiles.map((p) => p.table_id));
  const bound = await listedSlices(
    policies,
    principal,
    registry.filter((r) => view.canRead(r.id).allowed).map((r) => r.id),
    stateOf,
  );
  const needle = search?.trim().toLowerCase();
  const tables = [];
  for (const entry of registry) {
    const readable = view.canRead(entry.id).allowed;
    if (!readable && !(include_locked && entry.is_discoverable)) continue;
    const table = catalogTable(
      {
        registry: entry,
        state: stateOf.get(entry.id),
        hasProfile: profiled.has(entry.id),
        // Only what is cached: a list of many tables never waits on the external catalog.
        enrichment: catalogEnricher?.peek(entry) ?? null,
        bound: bound.get(entry.id),
      },
      accessOf(view, entry.id, pending),
    );
    if (source !== undefined && table.source !== source) continue;
    if (dataset !== undefined && table.dataset !== dataset) continue;
    if (
      needle &&
      ![table.id, table.name, table.description].some((text) => text.toLowerCase().includes(needle))
    )
      continue;
    tables.push(table);
  }
  return tables;
}

/** One table as the caller may see it: readers get columns and sync info; 404 unless visible. */
export async function tableDetail(
  { repos, dataDir, catalogEnricher, policies }: CatalogDeps,
  principal: Principal,
  table_id: string,
): Promise<TableDetail> {
  // The external catalog is asked only after the visibility check: an invisible table is a 404
  // without any request upstream.
  const { view, registry } = await visibleTable(repos, principal, table_id);
  const [state, enrichment] = await Promise.all([
    repos.syncState.getState(table_id),
    catalogEnricher ? catalogEnricher.lookup(registry) : null,
  ]);
  if (!view.canRead(table_id).allowed) {
    const pending = await pendingTables(repos, principal.id);
    return catalogTable(
      { registry, state, hasProfile: false, enrichment },
      accessOf(view, table_id, pending),
    );
  }
  const profile = await repos.profiles.get(table_id);
  const bound = await boundOne(policies, principal, table_id, state);
  const entry: CatalogEntry = { registry, state, hasProfile: profile !== undefined, enrichment, bound };
  // Columns from the stored profile; without one, from the Parquet footers of a published
  // local table; remote tables without a profile have none to show (no credentials are used).
  const profiled = profile?.profile.columns as { name: string; type: string }[] | undefined;
  const described =
    profiled ??
    (state?.status === 'ok' && state.query_mode === 'local'
      ? await describeParquet(dataDir, state.files)
      : null);
  return {
    ...catalogTable(entry, 'read'),
    primary_key: splitKey(registry.primary_key),
    ...(described
      ? {
          columns: described.map((c) => ({ name: c.name, type: c.type, ...columnFacts(enrichment, c.name) })),
        }
      : {}),
    sync: syncInfo(state, bound),
    profiled_at: profile?.profiled_at ?? null,
    policy: await tablePolicy(repos, principal, table_id, bound),
  };
}

/** The detail's `policy` (12 §4): the bound reader's view, or the admin's list of the table's policies. */
async function tablePolicy(
  repos: Repositories,
  principal: Principal,
  tableId: string,
  bound: BoundTable | undefined,
): Promise<TablePolicy> {
  if (principal.role === 'admin') {
    const policies = await repos.policies.listForTable(tableId);
    return policies.length > 0 ? { policies } : null;
  }
  if (!bound) return null;
  return {
    names: bound.view.policies.map((p) => p.name),
    masked_columns: bound.view.masks.map(({ column, mask }) => ({ column, mask })),
    rows_visible: bound.view.kind === 'empty' ? 'none' : 'filtered',
  };
}

/** The caller's view and slice of one table, when a policy binds them to it. */
async function boundOne(
  policies: PolicyEnforcement | undefined,
  principal: Principal,
  tableId: string,
  state: SyncState | undefined,
): Promise<BoundTable | undefined> {
  if (state?.status !== 'ok') return undefined;
  return (await boundTablesOf(policies, principal, [tableId], async () => sliceTableOf(state))).get(tableId);
}

/**
 * The slices of a list's bound tables. A list never waits for a build: a slice still being built
 * shows no figures rather than the table's.
 */
async function listedSlices(
  policies: PolicyEnforcement | undefined,
  principal: Principal,
  tableIds: readonly string[],
  stateOf: ReadonlyMap<string, SyncState>,
): Promise<Map<string, BoundTable>> {
  if (!policies) return new Map();
  const views = await policies.effectiveViews(principal, tableIds);
  const out = new Map<string, BoundTable>();
  await Promise.all(
    [...views].map(async ([id, view]) => {
      const state = stateOf.get(id);
      const local = state?.status === 'ok' && state.query_mode === 'local' && state.hash !== null;
      const slice = local ? await policies.slices.peek(sliceTableOf(state), view).catch(() => null) : null;
      out.set(id, { view, slice });
    }),
  );
  return out;
}

/** The stored profile of a table the caller can read, filtered for them; 404/403 otherwise. */
export async function readableProfile(
  { repos, dataDir, policies }: CatalogDeps,
  principal: Principal,
  table_id: string,
): Promise<ServedProfile> {
  const view = await loadAccessView(repos, principal);
  // Admins may read unregistered views, and their profiles (04 §6.1 the access function rule 2).
  if (!view.isVisible(table_id)) throw tableNotFound();
  if (!view.canRead(table_id).allowed) throw tableForbidden();
  const [row, state] = await Promise.all([repos.profiles.get(table_id), repos.syncState.getState(table_id)]);
  const bound = await boundOne(policies, principal, table_id, state);
  if (bound && policies) return slicedProfile(policies, bound, row);
  if (!row) throw new AgnesError('not_found', 'this table has no profile yet');
  const metrics = (await listMetrics(dataDir)).metrics;
  return servedProfile(row, state, view, metrics);
}

/**
 * A bound reader's profile (12 §3): computed from their slice, never from the table, with the
 * table's own description, strategy and key from its stored profile and no relations (they are
 * the table's, found in rows the reader may not see).
 */
async function slicedProfile(
  policies: PolicyEnforcement,
  bound: BoundTable,
  row: TableProfile | undefined,
): Promise<ServedProfile> {
  if (!bound.slice) throw new AgnesError('not_found', 'this table has no profile yet');
  const profile = withoutMaskedColumns(await policies.profiles.get(bound.slice), bound.view.masks);
  const stored = row?.profile as unknown as Profile | undefined;
  return {
    ...profile,
    description: stored?.description ?? '',
    sync_strategy: stored?.sync_strategy ?? '',
    primary_key: stored?.primary_key ?? [],
    last_sync: stored?.last_sync ?? null,
    related_tables: [],
    used_by_metrics: [],
    profiled_at: new Date().toISOString(),
    stale: false,
  };
}

function columnFacts(enrichment: TableEnrichment | null, name: string) {
  const column = enrichment ? columnEnrichment(enrichment, name) : undefined;
  return { description: column?.description ?? null, tags: column?.tags ?? [] };
}

const splitKey = (key: string | null | undefined): string[] =>
  (key ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);

/** Everything the catalog knows about one table for one request. */
export interface CatalogEntry {
  registry: RegistryEntry;
  state: SyncState | undefined;
  hasProfile: boolean;
  enrichment?: TableEnrichment | null;
  /** The caller's policy binding of the table: figures come from the slice, none while it is built. */
  bound?: BoundTable | undefined;
}

const nonEmpty = (text: string | null | undefined) => (text ? text : undefined);

/**
 * The `CatalogTable` of one registered table as the caller may see it. The description is the
 * registry's, else the external catalog's, else the extract's (07 §6 OpenMetadata).
 */
export function catalogTable(entry: CatalogEntry, access: CatalogAccess): CatalogTable {
  const { registry: r, state, enrichment } = entry;
  const base = {
    id: r.id,
    name: r.name,
    description: nonEmpty(r.description) ?? nonEmpty(enrichment?.description) ?? state?.description ?? '',
    source: r.source,
    source_type: r.source_type,
    dataset: datasetOf(r),
    bucket: r.bucket,
    query_mode: r.query_mode,
    sync_strategy: r.sync_strategy,
    access,
    ...(enrichment
      ? {
          owners: enrichment.owners,
          tags: enrichment.tags,
          tier: enrichment.tier,
          catalog_link: enrichment.link,
        }
      : {}),
  };
  if (access !== 'read') return base;
  const published = state?.status === 'ok';
  const figures = entry.bound
    ? { rows: entry.bound.slice?.rows ?? null, size_bytes: entry.bound.slice?.size_bytes ?? null }
    : {
        rows: published ? (state?.rows ?? null) : null,
        size_bytes: published ? (state?.file_size_bytes ?? null) : null,
      };
  return {
    ...base,
    ...figures,
    updated: state?.extracted_at ?? null,
    has_profile: entry.hasProfile,
  };
}

function syncInfo(state: SyncState | undefined, bound: BoundTable | undefined) {
  if (!state) return null;
  const slice = bound?.slice;
  return {
    status: state.status,
    layout: slice ? 'single' : state.layout,
    query_mode: state.query_mode,
    last_sync: state.last_sync,
    extracted_at: state.extracted_at,
    rows: bound ? (slice?.rows ?? null) : state.rows,
    size_bytes: bound ? (slice?.size_bytes ?? null) : state.file_size_bytes,
    file_count: slice ? 1 : state.files.length,
    error: state.error,
  };
}

function metricSummary(metric: MetricDefinition): MetricSummary {
  return {
    path: metric.path,
    name: metric.name,
    display_name: metric.display_name,
    category: metric.category,
    grain: metric.grain,
    tables: metric.tables,
  };
}

/** A metric is for the caller only when every table it mentions is readable (04 §6.2 object-level checks and the 403/404 policy). */
function canReadMetric(view: AccessView, metric: { tables: readonly string[] }): boolean {
  return metric.tables.every((table) => view.canRead(table).allowed);
}

/**
 * A stored profile for one reader (02 §7): `related_tables` naming tables the reader cannot read
 * and `used_by_metrics` whose metric mentions one (or no longer exists) are removed; `stale` when
 * the table's current hash differs from the profiled one.
 */
function servedProfile(
  row: TableProfile,
  state: SyncState | undefined,
  view: AccessView,
  metrics: readonly MetricDefinition[],
): ServedProfile {
  const profile = row.profile as unknown as Profile;
  const byPath = new Map(metrics.map((m) => [m.path, m]));
  return {
    ...profile,
    related_tables: (profile.related_tables ?? []).filter((r) => view.canRead(r.table).allowed),
    used_by_metrics: (profile.used_by_metrics ?? []).filter((u) => {
      const metric = byPath.get(u.file);
      return metric !== undefined && canReadMetric(view, metric);
    }),
    profiled_at: row.profiled_at,
    stale: (state?.hash ?? null) !== row.source_hash,
  };
}

/** The metric definitions whose tables the caller can all read, and the files that do not parse. */
export async function listReadableMetrics(
  { repos, dataDir }: CatalogDeps,
  principal: Principal,
): Promise<{ metrics: MetricSummary[]; invalid: string[] }> {
  const [view, scan] = await Promise.all([loadAccessView(repos, principal), listMetrics(dataDir)]);
  return {
    metrics: scan.metrics.filter((m) => canReadMetric(view, m)).map(metricSummary),
    invalid: scan.invalid,
  };
}

/** One metric definition (`<category>/<name>.yml`) when the caller can read every table it uses. */
export async function readableMetric({ repos, dataDir }: CatalogDeps, principal: Principal, path: string) {
  // Validated inside readMetric before the disk is touched.
  const metric = await readMetric(dataDir, path);
  const view = await loadAccessView(repos, principal);
  if (!canReadMetric(view, metric))
    throw new AgnesError('table_forbidden', 'this metric uses tables you cannot read');
  return metric.document;
}

/**
 * Queues a fresh profile of a published local table (03 §7 catalog); remote tables are queried in place
 * and never profiled.
 */
export async function refreshProfile(
  { repos, jobs }: CatalogDeps & { jobs: Pick<JobRunner, 'enqueueProfile'> },
  principal: Principal,
  table_id: string,
): Promise<{ status: 'queued'; job_id: string }> {
  const [registry, state] = await Promise.all([
    repos.registry.get(table_id),
    repos.syncState.getState(table_id),
  ]);
  if (!registry && !state) throw tableNotFound();
  if (registry?.query_mode === 'remote' || state?.query_mode === 'remote')
    throw new AgnesError('remote_table', 'remote tables are queried in place and not profiled');
  if (state?.status !== 'ok' || state.files.length === 0)
    throw new AgnesError('not_found', 'the table has no published data to profile');
  const job = await jobs.enqueueProfile({ tableId: table_id, requestedBy: principal.id });
  return { status: 'queued', job_id: job.id };
}

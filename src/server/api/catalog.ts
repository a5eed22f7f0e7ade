import { type Static, Type } from '@sinclair/typebox';
import { ServedProfileSchema } from '../../contract/index.js';
import { type AccessView, loadAccessView } from '../../core/access/access.js';
import type { Principal } from '../../core/access/decide.js';
import { describeParquet } from '../../core/catalog/columns.js';
import { listMetrics, readMetric } from '../../core/catalog/metrics.js';
import { AgnesError } from '../../core/errors.js';
import type { Repositories } from '../../core/state/repositories/index.js';
import type { AgnesApp } from '../app.js';
import { errors, Id } from '../schemas.js';
import type { AppServices } from '../services.js';
import {
  type CatalogAccessState,
  type CatalogEntry,
  CatalogTable,
  canReadMetric,
  catalogTable,
  MetricSummary,
  metricSummary,
  servedProfile,
  splitKey,
  syncInfo,
  TableDetail,
} from './catalog-views.js';

const TableParams = Type.Object({ table_id: Id }, { additionalProperties: false });

const ListQuery = Type.Object(
  {
    search: Type.Optional(Type.String({ maxLength: 200 })),
    source: Type.Optional(Type.String({ maxLength: 200 })),
    dataset: Type.Optional(Type.String({ maxLength: 200 })),
    include_locked: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);

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

function accessOf(view: AccessView, tableId: string, pending: ReadonlySet<string>): CatalogAccessState {
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

export type CatalogQuery = Static<typeof ListQuery>;

/** The catalog list of one caller (03 §7): readable tables, and with `include_locked` discoverable ones. */
export async function listCatalog(
  repos: Repositories,
  principal: Principal,
  query: CatalogQuery,
): Promise<Static<typeof CatalogTable>[]> {
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
  const needle = search?.trim().toLowerCase();
  const tables = [];
  for (const entry of registry) {
    const readable = view.canRead(entry.id).allowed;
    if (!readable && !(include_locked && entry.is_discoverable)) continue;
    const table = catalogTable(
      { registry: entry, state: stateOf.get(entry.id), hasProfile: profiled.has(entry.id) },
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
  repos: Repositories,
  dataDir: string,
  principal: Principal,
  table_id: string,
): Promise<Static<typeof TableDetail>> {
  const { view, registry } = await visibleTable(repos, principal, table_id);
  const state = await repos.syncState.getState(table_id);
  if (!view.canRead(table_id).allowed) {
    const pending = await pendingTables(repos, principal.id);
    return catalogTable({ registry, state, hasProfile: false }, accessOf(view, table_id, pending));
  }
  const profile = await repos.profiles.get(table_id);
  const entry: CatalogEntry = { registry, state, hasProfile: profile !== undefined };
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
      ? { columns: described.map((c) => ({ name: c.name, type: c.type, description: null, tags: [] })) }
      : {}),
    sync: syncInfo(state),
    profiled_at: profile?.profiled_at ?? null,
  };
}

/** The stored profile of a table the caller can read, filtered for them; 404/403 otherwise. */
export async function readableProfile(
  repos: Repositories,
  dataDir: string,
  principal: Principal,
  table_id: string,
) {
  const view = await loadAccessView(repos, principal);
  // Admins may read unregistered views, and their profiles (04 §6.1 rule 2).
  if (!view.isVisible(table_id)) throw tableNotFound();
  if (!view.canRead(table_id).allowed) throw tableForbidden();
  const [row, state] = await Promise.all([repos.profiles.get(table_id), repos.syncState.getState(table_id)]);
  if (!row) throw new AgnesError('not_found', 'this table has no profile yet');
  const metrics = (await listMetrics(dataDir)).metrics;
  return servedProfile(row, state, view, metrics);
}

/**
 * The catalog (03 §7, preview excepted): what tables exist for the caller, their columns, stored
 * profiles filtered per reader, forced re-profiling through the job runner, and the metric
 * definitions under `DATA_DIR/docs/metrics`. Every table check goes through the access function;
 * invisible tables are 404, visible but unreadable ones 403 (04 §6.2).
 */
export async function catalogRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { repos, dataDir, jobs } = services.ctx;

  app.get(
    '/api/catalog/tables',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        summary: 'Readable tables; with include_locked also discoverable tables you cannot read',
        querystring: ListQuery,
        response: {
          200: Type.Object({ tables: Type.Array(CatalogTable), count: Type.Integer() }),
          ...errors(401, 422),
        },
      },
    },
    async (request) => {
      const tables = await listCatalog(repos, request.auth!.principal, request.query);
      return { tables, count: tables.length };
    },
  );

  app.get(
    '/api/catalog/tables/:table_id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        summary: 'One table: readers get columns and sync info, others of a discoverable table its metadata',
        params: TableParams,
        response: { 200: TableDetail, ...errors(401, 404, 422) },
      },
    },
    async (request) => tableDetail(repos, dataDir, request.auth!.principal, request.params.table_id),
  );

  app.get(
    '/api/catalog/profile/:table_id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        summary: 'The stored profile of a readable table, filtered for you',
        params: TableParams,
        response: { 200: ServedProfileSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (request) => readableProfile(repos, dataDir, request.auth!.principal, request.params.table_id),
  );

  app.post(
    '/api/catalog/profile/:table_id/refresh',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['catalog'],
        summary: 'Queue a fresh profile of a published local table',
        params: TableParams,
        response: {
          202: Type.Object({ status: Type.Literal('queued'), job_id: Type.String() }),
          ...errors(401, 403, 404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const { table_id } = request.params;
      request.audit = { action: 'profile.refresh', resource: table_id, params: { table_id } };
      const [registry, state] = await Promise.all([
        repos.registry.get(table_id),
        repos.syncState.getState(table_id),
      ]);
      if (!registry && !state) throw tableNotFound();
      if (registry?.query_mode === 'remote' || state?.query_mode === 'remote')
        throw new AgnesError('remote_table', 'remote tables are queried in place and not profiled');
      if (state?.status !== 'ok' || state.files.length === 0)
        throw new AgnesError('not_found', 'the table has no published data to profile');
      const job = await jobs.enqueueProfile({ tableId: table_id, requestedBy: request.auth!.principal.id });
      return reply.status(202).send({ status: 'queued' as const, job_id: job.id });
    },
  );

  app.get(
    '/api/catalog/metrics',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        summary: 'Metric definitions whose tables you can all read',
        response: {
          200: Type.Object({ metrics: Type.Array(MetricSummary), count: Type.Integer() }),
          ...errors(401),
        },
      },
    },
    async (request) => {
      const [view, scan] = await Promise.all([
        loadAccessView(repos, request.auth!.principal),
        listMetrics(dataDir),
      ]);
      if (scan.invalid.length > 0)
        request.log.warn({ files: scan.invalid }, 'metric files that do not parse');
      const metrics = scan.metrics.filter((m) => canReadMetric(view, m)).map(metricSummary);
      return { metrics, count: metrics.length };
    },
  );

  app.get(
    '/api/catalog/metrics/*',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        summary: 'One metric definition (<category>/<name>.yml) as JSON',
        params: Type.Object(
          { '*': Type.String({ description: '<category>/<name>.yml, lower-case letters, digits, _ and -' }) },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({}, { additionalProperties: true, description: 'The parsed YAML document' }),
          ...errors(400, 401, 403, 404, 500),
        },
      },
    },
    async (request) => {
      const path = request.params['*'];
      // Validated inside readMetric before the disk is touched.
      const metric = await readMetric(dataDir, path);
      const view = await loadAccessView(repos, request.auth!.principal);
      if (!canReadMetric(view, metric))
        throw new AgnesError('table_forbidden', 'this metric uses tables you cannot read');
      return metric.document;
    },
  );
}

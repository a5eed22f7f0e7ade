import { join } from 'node:path';
import type {
  DiscoveredTable,
  DiscoveredTables,
  RebuildReport,
  RegisteredTable,
  RegistryRow,
  RegistryUpdated,
  SourceSummary,
} from '../../contract/index.js';
import type { Principal } from '../access/decide.js';
import { AgnesError, errorMessage, isAgnesError } from '../errors.js';
import type { Connector, ConnectorRegistry, DiscoveredTable as Offered } from '../extract/connector.js';
import { discoverPublished } from '../extract/discover-published.js';
import { isValidSourceName } from '../ids.js';
import type { JobRunner } from '../jobs/runner.js';
import type { SyncOrchestrator } from '../orchestrator/orchestrator.js';
import type { RegistryEntry, RegistryPatch, Repositories, SyncState } from '../state/repositories/index.js';
import { jobView } from './job-view.js';
import {
  checkRules,
  deriveTableId,
  primaryKeyText,
  type RegisterInput,
  registryRowView,
  type UpdateInput,
} from './registry-input.js';
import { type KnownSource, knownSources, type SourceDeps } from './source-catalog.js';

/**
 * Table registry administration (03 §12): discover, list, register, update and unregister tables,
 * the synchronous rebuild and the list of sources. The callers admit admins only.
 */

/** What the registry use cases read: the state store, the configured sources and the connectors. */
export interface RegistryDeps extends SourceDeps {
  repos: Repositories;
  /** Where connectors find their credentials during discovery (never copied into a config). */
  env: NodeJS.ProcessEnv;
}

const notFound = () => new AgnesError('not_found', 'table not found');
const unknownSource = () => new AgnesError('not_found', 'source not found');

/** Upstream failures are reported per source with one generic message (03 §12 administration: no exception text). */
const DISCOVERY_FAILED = 'discovery failed; see the server log';

/** A field the schema cannot judge alone, answered like a schema failure. */
const invalidField = (path: string, message: string) =>
  new AgnesError('validation_failed', 'request validation failed', {
    extra: { errors: [{ path, message }] },
  });

/** The connector type of a source to register: configured, else the connector owning the name, else the registry's. */
function sourceTypeOf(
  deps: RegistryDeps,
  registry: readonly RegistryEntry[],
  source: string,
): string | undefined {
  const configured = deps.sources.find((s) => s.name === source);
  if (configured) return configured.type;
  if (deps.connectors.has(source)) return source;
  return registry.find((r) => r.source === source)?.source_type;
}

/** The connector of a type to register tables of: one this instance runs. */
function connectorOf(connectors: ConnectorRegistry, type: string): Connector {
  const connector = connectors.get(type);
  if (!connector) throw invalidField('/body/source_type', 'is not a known connector type');
  return connector;
}

function checkSourceName(source: string): void {
  if (!isValidSourceName(source)) throw invalidField('/body/source', 'is a reserved source name');
}

/** The columns a body sets, converted to their stored form (`primary_key` as comma-separated text). */
function patchOf(
  body: Omit<UpdateInput, 'primary_key'> & { primary_key?: string | string[] | null },
): RegistryPatch {
  const { primary_key, ...rest } = body;
  const patch: RegistryPatch = { ...rest };
  if (primary_key !== undefined) patch.primary_key = primaryKeyText(primary_key) ?? null;
  return patch;
}

async function discoverSource(deps: RegistryDeps, source: KnownSource): Promise<Offered[]> {
  const connector = source.configured ? deps.connectors.get(source.type) : undefined;
  if (source.configured && connector?.discover) {
    return connector.discover({
      name: source.name,
      type: source.type,
      config: source.configured.config,
      extractDir: join(deps.dataDir, 'extracts', source.name),
      env: deps.env,
    });
  }
  const states = (await deps.repos.syncState.listStates({ source: source.name })).filter(
    (s) => s.status === 'ok',
  );
  return discoverPublished(deps.dataDir, states);
}

/** A source whose discovery threw, with the error for the server log only. */
export interface DiscoveryFailure {
  source: string;
  error: string;
}

function offeredTable(
  registry: readonly RegistryEntry[],
  source: KnownSource,
  table: Offered,
): DiscoveredTable {
  const suggested = deriveTableId(table.name) ?? deriveTableId(table.source_table) ?? 't_table';
  const registered = registry.some(
    (r) => r.source === source.name && (r.id === suggested || r.source_table === table.source_table),
  );
  return { source: source.name, source_type: source.type, suggested_id: suggested, ...table, registered };
}

/**
 * The tables the configured (or published) sources offer, through each connector's discovery;
 * `failures` carries what went wrong for the log, the answer only a generic error per source.
 */
export async function discoverTables(
  deps: RegistryDeps,
  input: { source?: string | undefined },
): Promise<DiscoveredTables & { failures: DiscoveryFailure[] }> {
  const { repos } = deps;
  const [registry, states] = await Promise.all([repos.registry.list(), repos.syncState.listStates()]);
  const candidates = (await knownSources(deps, registry, states)).filter((s) => s.configured || s.published);
  const wanted = input.source;
  const selected = wanted === undefined ? candidates : candidates.filter((s) => s.name === wanted);
  if (wanted !== undefined && selected.length === 0) throw unknownSource();
  const tables: DiscoveredTable[] = [];
  const sources: DiscoveredTables['sources'] = [];
  const failures: DiscoveryFailure[] = [];
  for (const source of selected) {
    let discovered: Offered[];
    try {
      discovered = await discoverSource(deps, source);
    } catch (error) {
      failures.push({ source: source.name, error: errorMessage(error) });
      sources.push({ name: source.name, status: 'error', error: DISCOVERY_FAILED });
      continue;
    }
    sources.push({ name: source.name, status: 'ok' });
    tables.push(...discovered.map((table) => offeredTable(registry, source, table)));
  }
  return { tables, count: tables.length, sources, failures };
}

/** Registered tables ordered by name, of one source and matching a search when given. */
export async function listRegistry(
  { repos }: Pick<RegistryDeps, 'repos'>,
  input: { source?: string | undefined; search?: string | undefined },
): Promise<RegistryRow[]> {
  const { source, search } = input;
  let rows = await repos.registry.list(source === undefined ? {} : { source });
  if (search !== undefined) {
    const needle = search.toLowerCase();
    rows = rows.filter((r) =>
      [r.id, r.name, r.description ?? '', r.bucket].some((v) => v.toLowerCase().includes(needle)),
    );
  }
  return rows.map(registryRowView);
}

async function insertEntry(repos: Repositories, entry: Parameters<Repositories['registry']['register']>[0]) {
  try {
    return await repos.registry.register(entry);
  } catch (error) {
    if (isAgnesError(error) && error.code === 'conflict')
      throw new AgnesError('already_registered', 'a table with this id is already registered', {
        extra: { id: entry.id },
      });
    throw error;
  }
}

/**
 * Registers a table (its id derived from the name unless given) after the id, source-name,
 * connector and cross-field rules; with `sync_now` its first sync is queued when the source is
 * configured.
 */
export async function registerTable(
  deps: RegistryDeps & { jobs: Pick<JobRunner, 'enqueueSync'> },
  principal: Principal,
  input: RegisterInput,
): Promise<RegisteredTable> {
  const { sync_now, id: givenId, ...body } = input;
  const id = givenId ?? deriveTableId(body.name);
  if (!id) throw invalidField('/body/id', 'is required when the name yields no table id');
  checkSourceName(body.source);
  const registry = await deps.repos.registry.list();
  const sourceType = body.source_type ?? sourceTypeOf(deps, registry, body.source);
  if (!sourceType) throw invalidField('/body/source_type', 'is required for a source that is not configured');
  const { traits } = connectorOf(deps.connectors, sourceType);
  // A remote-only connector (BigQuery) registers remote tables without being told.
  const patch = { ...patchOf(body), query_mode: body.query_mode ?? traits.queryModes[0] ?? 'local' };
  checkRules(
    {
      source_type: sourceType,
      sync_strategy: patch.sync_strategy ?? 'full_refresh',
      query_mode: patch.query_mode,
      sync_schedule: patch.sync_schedule ?? null,
      primary_key: patch.primary_key ?? null,
      partition_by: patch.partition_by ?? null,
      partition_granularity: patch.partition_granularity ?? null,
    },
    traits,
  );
  const entry = await insertEntry(deps.repos, {
    ...patch,
    id,
    name: body.name,
    source: body.source,
    source_type: sourceType,
    registered_by: principal.id,
  });
  const configured = deps.sources.some((s) => s.name === entry.source);
  const job =
    sync_now && configured
      ? await deps.jobs.enqueueSync({ source: entry.source, tables: [entry.id], requestedBy: principal.id })
      : undefined;
  return { id: entry.id, name: entry.name, status: 'registered', ...(job ? { job_id: job.id } : {}) };
}

/** Changes any field of a registered table but its id, under the same rules as registering. */
export async function updateTable(
  deps: RegistryDeps,
  tableId: string,
  input: UpdateInput,
): Promise<RegistryUpdated> {
  const registry = await deps.repos.registry.list();
  const existing = registry.find((r) => r.id === tableId);
  if (!existing) throw notFound();
  if (input.source !== undefined) checkSourceName(input.source);
  const sourceType =
    input.source_type ??
    (input.source !== undefined && input.source !== existing.source
      ? (sourceTypeOf(deps, registry, input.source) ?? existing.source_type)
      : existing.source_type);
  const { traits } = connectorOf(deps.connectors, sourceType);
  const patch = patchOf(input);
  if (sourceType !== existing.source_type) patch.source_type = sourceType;
  const merged = { ...existing, ...patch };
  checkRules(
    {
      source_type: sourceType,
      sync_strategy: merged.sync_strategy,
      query_mode: merged.query_mode,
      sync_schedule: merged.sync_schedule,
      primary_key: merged.primary_key,
      partition_by: merged.partition_by,
      partition_granularity: merged.partition_granularity,
    },
    traits,
  );
  // `registered_at` is never written; the repository stamps `updated_at`.
  const updated = await deps.repos.registry.update(tableId, patch);
  if (!updated) throw notFound();
  return { id: tableId, updated: Object.keys(input) };
}

/** Unregisters a table: its grants, pending requests and profile go; data and views stay. */
export async function unregisterTable(
  { repos }: Pick<RegistryDeps, 'repos'>,
  tableId: string,
): Promise<void> {
  await repos.transaction(async (r) => {
    if (!(await r.registry.delete(tableId))) throw notFound();
    // Grants on exactly this id; bucket wildcards may still cover other tables.
    await r.permissions.revokeAllForDataset(tableId);
    await r.accessRequests.cancelPendingForTable(tableId);
    await r.profiles.delete(tableId);
  });
}

/** Rebuilds the analytics views of every source, or of one known source, synchronously. */
export async function rebuildViews(
  deps: RegistryDeps & { orchestrator: Pick<SyncOrchestrator, 'rebuild' | 'rebuildSource'> },
  input: { source?: string | undefined },
): Promise<RebuildReport> {
  const { source } = input;
  if (source === undefined) return deps.orchestrator.rebuild();
  if (!isValidSourceName(source))
    throw new AgnesError('invalid_name', 'source name is not a valid identifier');
  // Unknown: not configured, no directory in extracts/ and no views (02 §2.3: a source with
  // views but no extract is rebuilt, which removes its views).
  const [registry, states] = await Promise.all([
    deps.repos.registry.list({ source }),
    deps.repos.syncState.listStates({ source }),
  ]);
  const known = (await knownSources(deps, registry, states)).find((s) => s.name === source);
  if (!known || !(known.configured || known.hasExtractDir || known.published)) throw unknownSource();
  return deps.orchestrator.rebuildSource(source);
}

/** Every known source: configuration, registered tables, last rebuild and last sync job. */
export async function listSources(
  deps: RegistryDeps & { orchestrator: Pick<SyncOrchestrator, 'published'> },
): Promise<SourceSummary[]> {
  const { repos } = deps;
  const [registry, states, published] = await Promise.all([
    repos.registry.list(),
    repos.syncState.listStates(),
    deps.orchestrator.published().catch(() => null),
  ]);
  const sources: SourceSummary[] = [];
  for (const source of await knownSources(deps, registry, states)) {
    const report = published?.build.report?.sources[source.name];
    const lastJob = (await repos.jobs.list({ source: source.name, kind: 'sync' }, { page: 1, per_page: 1 }))
      .items[0];
    sources.push({
      name: source.name,
      type: source.type,
      configured: source.configured !== null,
      push: source.push,
      tables_registered: source.registered,
      last_rebuild: report
        ? {
            status: report.status,
            reason: report.reason,
            tables: report.tables,
            remote_tables: report.remote_tables,
            skipped_tables: report.skipped_tables,
          }
        : lastRebuildFromState(states, source.name),
      last_job: lastJob ? jobView(lastJob) : null,
    });
  }
  return sources;
}

/**
 * The last published build's report covers only the sources it rebuilt; for the others the state
 * store says the same: `sync_state` mirrors what their last rebuild published and skipped.
 */
function lastRebuildFromState(states: readonly SyncState[], source: string): SourceSummary['last_rebuild'] {
  const own = states.filter((s) => s.source === source && s.status !== 'removed');
  if (own.length === 0) return null;
  const ok = own.filter((s) => s.status === 'ok');
  const skipped = own
    .filter((s) => s.status !== 'ok')
    .map((s) => ({ table: s.table_id, reason: s.status, detail: s.error ?? '' }));
  return {
    status: skipped.length === 0 ? 'ok' : ok.length === 0 ? 'failed' : 'partial',
    reason: null,
    tables: ok.filter((s) => s.layout !== 'remote').map((s) => s.table_id),
    remote_tables: ok.filter((s) => s.layout === 'remote').map((s) => s.table_id),
    skipped_tables: skipped,
  };
}

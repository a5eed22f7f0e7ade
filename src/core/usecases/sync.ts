import type {
  JobList,
  Job as JobView,
  SkippedSync,
  SyncHistory,
  SyncTriggerRequest,
  SyncTriggerResponse,
  TriggeredJob,
} from '../../contract/index.js';
import { loadAccessView } from '../access/access.js';
import type { Principal } from '../access/decide.js';
import type { SourceDefinition } from '../config/sources.js';
import { AgnesError } from '../errors.js';
import type { ConnectorRegistry } from '../extract/connector.js';
import { isValidSourceName } from '../ids.js';
import type { JobRunner } from '../jobs/runner.js';
import {
  boundTablesOf,
  type PolicyEnforcement,
  publishedTable,
  slicedManifestEntry,
} from '../policies/enforce.js';
import {
  type Job,
  type PageRequest,
  pageFields,
  type RegistryEntry,
  type Repositories,
} from '../state/repositories/index.js';
import type { CatalogSnapshots } from '../sync/catalog-snapshot.js';
import type { GenerationTracker } from '../sync/generation.js';
import { type BuiltManifest, buildManifest } from '../sync/manifest.js';
import { jobView } from './job-view.js';

/**
 * Sync (03 §4): the per-user manifest, the admin's trigger, the job views and the sync history.
 * The callers admit admins only to the trigger and the jobs.
 */

/** What a trigger resolves against: the configured sources and the connectors' directions. */
export interface TriggerDeps {
  repos: Repositories;
  sources: readonly SourceDefinition[];
  connectors: ConnectorRegistry;
  jobs: Pick<JobRunner, 'enqueueSync'>;
}

/**
 * What the caller may sync: readable, published tables narrowed by their sync settings. A
 * policy-bound reader's entry of a bound table describes their slice (12 §3), so its hash, and
 * with it the ETag, changes with the binding.
 */
export async function syncManifest(
  {
    repos,
    generation,
    catalog,
    policies,
  }: {
    repos: Repositories;
    generation: Pick<GenerationTracker, 'current'>;
    catalog: CatalogSnapshots;
    policies?: PolicyEnforcement | undefined;
  },
  principal: Principal,
): Promise<BuiltManifest> {
  const [snapshot, settings, current] = await Promise.all([
    catalog.current(),
    repos.syncState.listSettings(principal.id),
    generation.current(),
  ]);
  const view = await loadAccessView(repos, principal);
  const canRead = (id: string) => view.canRead(id).allowed;
  const readable = snapshot.manifestTables.filter((t) => canRead(t.id));
  const bound = await boundTablesOf(
    policies,
    principal,
    readable.map((t) => t.id),
    (id) => publishedTable(repos, id),
  );
  return buildManifest({
    userId: principal.id,
    generation: current,
    serverTime: new Date().toISOString(),
    tables: snapshot.manifestTables,
    canRead,
    settings,
    overrides: new Map(
      readable.flatMap((t) => {
        const b = bound.get(t.id);
        return b ? [[t.id, slicedManifestEntry(t.entry, b)] as const] : [];
      }),
    ),
  });
}

export interface TriggerPlan {
  /** Sources synced whole: every registered table. */
  whole: string[];
  bySource: Map<string, string[]>;
  skipped: SkippedSync[];
}

/** Whether a source is configured and pulled, so a sync job can run for it. */
function pullSource(deps: Pick<TriggerDeps, 'sources' | 'connectors'>, name: string): boolean {
  const definition = deps.sources.find((s) => s.name === name);
  return definition !== undefined && deps.connectors.get(definition.type)?.traits.direction === 'pull';
}

/** Why a sync of this table would be skipped (a push source, or a source not configured), or null. */
export function syncSkipReason(
  deps: Pick<TriggerDeps, 'sources' | 'connectors'>,
  entry: Pick<RegistryEntry, 'source' | 'source_type'>,
): SkippedSync['reason'] | null {
  const type = deps.sources.find((s) => s.name === entry.source)?.type ?? entry.source_type;
  if (deps.connectors.get(type)?.traits.direction === 'push') return 'push_source';
  return pullSource(deps, entry.source) ? null : 'source_not_configured';
}

/** What a trigger asks for, resolved against the registry and the configured sources (03 §4 sync). */
export function planTrigger(
  deps: Pick<TriggerDeps, 'sources' | 'connectors'>,
  registry: readonly RegistryEntry[],
  body: SyncTriggerRequest,
): TriggerPlan {
  const explicit = Array.isArray(body) ? body : body.tables;
  const source = Array.isArray(body) ? undefined : body.source;
  const configured = new Set(deps.sources.map((s) => s.name));
  const pull = (name: string) => pullSource(deps, name);
  const reasonFor = (entry: Pick<RegistryEntry, 'source' | 'source_type'>) => syncSkipReason(deps, entry);
  if (source !== undefined) {
    const known = configured.has(source) || registry.some((r) => r.source === source);
    if (!isValidSourceName(source) || !known) throw new AgnesError('not_found', 'source not found');
  }
  const plan: TriggerPlan = { whole: [], bySource: new Map(), skipped: [] };
  if (explicit === undefined) {
    // No list: every registered table of the named source, or of every configured pull source.
    if (source === undefined) {
      plan.whole = deps.sources.filter((s) => pull(s.name)).map((s) => s.name);
      return plan;
    }
    if (pull(source)) plan.whole = [source];
    else
      for (const entry of registry.filter((r) => r.source === source))
        plan.skipped.push({ table: entry.id, reason: reasonFor(entry) ?? 'source_not_configured' });
    return plan;
  }
  const ids = [...new Set(explicit)];
  const byId = new Map(registry.map((r) => [r.id, r]));
  const unknown = ids.filter((id) => {
    const entry = byId.get(id);
    return !entry || (source !== undefined && entry.source !== source);
  });
  if (unknown.length > 0) {
    // The unknown ids in a field of their own: `detail` never repeats input (03 §0.2).
    throw new AgnesError('unknown_tables', 'some tables are not registered', { extra: { tables: unknown } });
  }
  for (const id of ids) {
    const entry = byId.get(id)!;
    const reason = reasonFor(entry);
    if (reason) plan.skipped.push({ table: id, reason });
    else plan.bySource.set(entry.source, [...(plan.bySource.get(entry.source) ?? []), id]);
  }
  return plan;
}

/**
 * Queues (or merges into) the sync job of one source. `merged` when the job returned is the one
 * that was queued before this call: the runner merges into a queued job instead of adding one.
 */
async function enqueue(
  { repos, jobs }: Pick<TriggerDeps, 'repos' | 'jobs'>,
  request: { source: string; tables: string[]; requestedBy: string; fullRefresh: boolean },
): Promise<Job & { merged: boolean }> {
  const queuedBefore = (await repos.jobs.findActive(request.source)).find((j) => j.status === 'queued');
  const job = await jobs.enqueueSync(request);
  return { ...job, merged: job.id === queuedBefore?.id };
}

/** Every registered table of a source, for reporting a whole-source job's tables. */
function registeredOf(registry: readonly RegistryEntry[], source: string): string[] {
  return registry.filter((r) => r.source === source).map((r) => r.id);
}

/** Queues the sync jobs a trigger asks for, one per source, and says which tables were skipped. */
export async function triggerSync(
  deps: TriggerDeps,
  principal: Principal,
  body: SyncTriggerRequest,
): Promise<SyncTriggerResponse> {
  const fullRefresh = !Array.isArray(body) && body.full_refresh === true;
  const registry = await deps.repos.registry.list();
  const plan = planTrigger(deps, registry, body);
  const jobs: TriggeredJob[] = [];
  const requests: { source: string; tables: string[] }[] = [
    ...plan.whole.map((source) => ({ source, tables: [] })),
    ...[...plan.bySource].map(([source, tables]) => ({ source, tables })),
  ];
  for (const { source, tables } of requests) {
    const job = await enqueue(deps, { source, tables, requestedBy: principal.id, fullRefresh });
    jobs.push({
      id: job.id,
      source,
      status: job.merged ? 'merged' : 'queued',
      // An empty list on a job means every table of the source.
      tables: job.tables.length > 0 ? job.tables : registeredOf(registry, source),
    });
  }
  return { status: 'triggered', jobs, skipped: plan.skipped };
}

/** Jobs, newest first, of one status when given. */
export async function listJobs(
  { repos }: { repos: Repositories },
  input: { status?: Job['status'] | undefined },
  page: PageRequest,
): Promise<JobList> {
  const found = await repos.jobs.list(input.status === undefined ? {} : { status: input.status }, page);
  return { jobs: found.items.map(jobView), ...pageFields(found) };
}

export async function getJob({ repos }: { repos: Repositories }, jobId: string): Promise<JobView> {
  const job = await repos.jobs.get(jobId);
  if (!job) throw new AgnesError('not_found', 'job not found');
  return jobView(job);
}

/** Sync history: rows of tables the caller can read; source-level rows for admins only. */
export async function syncHistory(
  { repos }: { repos: Repositories },
  principal: Principal,
  input: { table_id?: string | undefined; source?: string | undefined },
  page: PageRequest,
): Promise<SyncHistory> {
  const { table_id, source } = input;
  const filter: { table_id?: string; source?: string; only_tables?: string[] } = {};
  if (table_id !== undefined) filter.table_id = table_id;
  if (source !== undefined) filter.source = source;
  if (principal.role !== 'admin') {
    const view = await loadAccessView(repos, principal);
    filter.only_tables = view.readableTables();
  }
  const found = await repos.syncState.listHistory(filter, page);
  // A bound reader's row counts come from their slice (12 §3); a past sync's count is the whole
  // table's, which would tell them how many rows they cannot see, so it is not shown.
  const bound =
    principal.role === 'admin'
      ? new Set<string>()
      : await repos.policies.boundTables([
          ...new Set(found.items.flatMap((e) => (e.table_id === null ? [] : [e.table_id]))),
        ]);
  return {
    entries: found.items.map((e) => ({
      id: e.id,
      table_id: e.table_id,
      source: e.source,
      synced_at: e.synced_at,
      rows: e.table_id !== null && bound.has(e.table_id) ? null : e.rows,
      duration_ms: e.duration_ms,
      status: e.status,
      error: e.error,
    })),
    ...pageFields(found),
  };
}

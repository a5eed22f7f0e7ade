import { Type } from '@sinclair/typebox';
import { JobSchema, ManifestSchema, SyncTriggerResponseSchema } from '../../contract/index.js';
import { accessView } from '../../core/access/access.js';
import type { Principal } from '../../core/access/decide.js';
import { AgnesError } from '../../core/errors.js';
import { isValidSourceName } from '../../core/ids.js';
import type { Job, RegistryEntry, Repositories } from '../../core/state/repositories/index.js';
import { GenerationTracker } from '../../core/sync/generation.js';
import { buildManifest } from '../../core/sync/manifest.js';
import { jobView } from '../../core/usecases/job-view.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { AgnesApp } from '../app.js';
import { errors, Id, PagedQuery, PageFields, pageOf, Timestamp } from '../schemas.js';
import type { AppServices } from '../services.js';
import { noneMatch } from './http-conditional.js';

const Nullable = Type.Union([Type.String(), Type.Null()]);
const TableIdText = Type.String({ minLength: 1, maxLength: 300 });

const TriggerBody = Type.Union([
  Type.Array(TableIdText, { maxItems: 1000, description: 'table ids (the original form)' }),
  Type.Object(
    {
      tables: Type.Optional(Type.Array(TableIdText, { maxItems: 1000 })),
      source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      full_refresh: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
]);

const JobStatusSchema = Type.Union(
  ['queued', 'running', 'succeeded', 'partial', 'failed', 'interrupted'].map((s) => Type.Literal(s)),
);

type SkipReason = 'push_source' | 'source_not_configured';
interface TriggeredJob {
  id: string;
  source: string;
  status: 'queued' | 'merged';
  tables: string[];
}

/**
 * Queues (or merges into) the sync job of one source. `merged` when the job returned is the one
 * that was queued before this call: the runner merges into a queued job instead of adding one.
 */
async function enqueue(
  ctx: Runtime,
  request: { source: string; tables: string[]; requestedBy: string; fullRefresh: boolean },
): Promise<Job & { merged: boolean }> {
  const queuedBefore = (await ctx.repos.jobs.findActive(request.source)).find((j) => j.status === 'queued');
  const job = await ctx.jobs.enqueueSync(request);
  return { ...job, merged: job.id === queuedBefore?.id };
}

/** What a trigger asks for, resolved against the registry and the configured sources (03 §4). */
function planTrigger(
  ctx: Runtime,
  registry: readonly RegistryEntry[],
  body: typeof TriggerBody.static,
): { whole: string[]; bySource: Map<string, string[]>; skipped: { table: string; reason: SkipReason }[] } {
  const explicit = Array.isArray(body) ? body : body.tables;
  const source = Array.isArray(body) ? undefined : body.source;
  const configured = new Map(ctx.sources.map((s) => [s.name, s]));
  const pull = (name: string) => {
    const definition = configured.get(name);
    return definition !== undefined && ctx.connectors.get(definition.type)?.traits.direction === 'pull';
  };
  const reasonFor = (entry: Pick<RegistryEntry, 'source' | 'source_type'>): SkipReason | null => {
    const type = configured.get(entry.source)?.type ?? entry.source_type;
    if (ctx.connectors.get(type)?.traits.direction === 'push') return 'push_source';
    return pull(entry.source) ? null : 'source_not_configured';
  };
  if (source !== undefined) {
    const known = configured.has(source) || registry.some((r) => r.source === source);
    if (!isValidSourceName(source) || !known) throw new AgnesError('not_found', 'source not found');
  }
  const plan = {
    whole: [] as string[],
    bySource: new Map<string, string[]>(),
    skipped: [] as { table: string; reason: SkipReason }[],
  };
  if (explicit === undefined) {
    // No list: every registered table of the named source, or of every configured pull source.
    if (source === undefined) {
      plan.whole = ctx.sources.filter((s) => pull(s.name)).map((s) => s.name);
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

/** Every registered table of a source, for reporting a whole-source job's tables. */
function registeredOf(registry: readonly RegistryEntry[], source: string): string[] {
  return registry.filter((r) => r.source === source).map((r) => r.id);
}

/** The access function over a registry the caller already loaded (the manifest needs its rows too). */
async function viewOver(repos: Repositories, principal: Principal, registry: readonly RegistryEntry[]) {
  const grants = await repos.permissions.grantsForUser(principal.id);
  return accessView(
    principal,
    registry,
    grants.map((g) => ({
      dataset: g.dataset,
      access: g.access,
      group: g.via.kind === 'group' ? g.via.group_name : null,
    })),
  );
}

/**
 * Sync (03 §4): the per-user manifest, the admin's trigger and job views, and sync history.
 * `GET/POST /api/sync/settings` and the table subscriptions live in `settings.ts`.
 */
export async function syncRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;
  const { repos } = ctx;
  const generation = new GenerationTracker(ctx.orchestrator.analyticsPath, () =>
    ctx.orchestrator.currentGeneration(),
  );

  app.get(
    '/api/sync/manifest',
    {
      config: { auth: 'analyst+' },
      schema: {
        tags: ['sync'],
        summary: 'What you may sync: readable, published tables narrowed by your sync settings',
        response: { 200: ManifestSchema, 304: Type.Null(), ...errors(401, 403) },
      },
    },
    async (request, reply) => {
      const principal = request.auth!.principal;
      const [states, registry, settings, current] = await Promise.all([
        repos.syncState.listStates(),
        repos.registry.list(),
        repos.syncState.listSettings(principal.id),
        generation.current(),
      ]);
      const view = await viewOver(repos, principal, registry);
      const built = buildManifest({
        userId: principal.id,
        generation: current,
        serverTime: new Date().toISOString(),
        states,
        registry: new Map(registry.map((r) => [r.id, r])),
        canRead: (id) => view.canRead(id).allowed,
        settings,
      });
      reply.header('ETag', built.etag).header('Cache-Control', 'private, no-cache');
      if (noneMatch(request.headers['if-none-match'], built.etag))
        return reply.status(304).send(undefined as never);
      // Serialised once by the builder: the tables text is also what the ETag hashes.
      return reply.type('application/json; charset=utf-8').send(built.body as never);
    },
  );

  app.post(
    '/api/sync/trigger',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['sync'],
        summary: 'Queue sync jobs: every configured pull source, one source, or a list of tables',
        body: TriggerBody,
        response: {
          202: SyncTriggerResponseSchema,
          ...errors(401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const fullRefresh = !Array.isArray(body) && body.full_refresh === true;
      request.audit = {
        action: 'sync.trigger',
        resource: Array.isArray(body) ? null : (body.source ?? null),
        params: Array.isArray(body) ? { tables: body } : body,
      };
      const registry = await repos.registry.list();
      const plan = planTrigger(ctx, registry, body);
      const requestedBy = request.auth!.principal.id;
      const jobs: TriggeredJob[] = [];
      const requests: { source: string; tables: string[] }[] = [
        ...plan.whole.map((source) => ({ source, tables: [] })),
        ...[...plan.bySource].map(([source, tables]) => ({ source, tables })),
      ];
      for (const { source, tables } of requests) {
        const job = await enqueue(ctx, { source, tables, requestedBy, fullRefresh });
        jobs.push({
          id: job.id,
          source,
          status: job.merged ? 'merged' : 'queued',
          // An empty list on a job means every table of the source.
          tables: job.tables.length > 0 ? job.tables : registeredOf(registry, source),
        });
      }
      return reply.status(202).send({ status: 'triggered' as const, jobs, skipped: plan.skipped });
    },
  );

  app.get(
    '/api/sync/jobs',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['sync'],
        summary: 'Jobs, newest first',
        querystring: PagedQuery({ status: Type.Optional(JobStatusSchema) }),
        response: {
          200: Type.Object({ jobs: Type.Array(JobSchema), ...PageFields }),
          ...errors(401, 403, 422),
        },
      },
    },
    async (request) => {
      const { status } = request.query;
      const page = await repos.jobs.list(
        status === undefined ? {} : { status: status as Job['status'] },
        pageOf(request.query),
      );
      return { jobs: page.items.map(jobView), total: page.total, page: page.page, per_page: page.per_page };
    },
  );

  app.get(
    '/api/sync/jobs/:job_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['sync'],
        summary: 'One job with its report',
        params: Type.Object({ job_id: Id }),
        response: { 200: JobSchema, ...errors(401, 403, 404) },
      },
    },
    async (request) => {
      const job = await repos.jobs.get(request.params.job_id);
      if (!job) throw new AgnesError('not_found', 'job not found');
      return jobView(job);
    },
  );

  app.get(
    '/api/sync/history',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['sync'],
        summary: 'Sync history: rows of tables you can read; source-level rows for admins only',
        querystring: PagedQuery({
          table_id: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
          source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
        }),
        response: {
          200: Type.Object({
            entries: Type.Array(
              Type.Object({
                id: Type.String(),
                table_id: Nullable,
                source: Type.String(),
                synced_at: Timestamp,
                rows: Type.Union([Type.Integer(), Type.Null()]),
                duration_ms: Type.Union([Type.Integer(), Type.Null()]),
                status: Type.String(),
                error: Nullable,
              }),
            ),
            ...PageFields,
          }),
          ...errors(401, 422),
        },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      const { table_id, source } = request.query;
      const filter: { table_id?: string; source?: string; only_tables?: string[] } = {};
      if (table_id !== undefined) filter.table_id = table_id;
      if (source !== undefined) filter.source = source;
      if (principal.role !== 'admin') {
        const view = await viewOver(repos, principal, await repos.registry.list());
        filter.only_tables = view.readableTables();
      }
      const page = await repos.syncState.listHistory(filter, pageOf(request.query));
      return {
        entries: page.items.map((e) => ({
          id: e.id,
          table_id: e.table_id,
          source: e.source,
          synced_at: e.synced_at,
          rows: e.rows,
          duration_ms: e.duration_ms,
          status: e.status,
          error: e.error,
        })),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
      };
    },
  );
}

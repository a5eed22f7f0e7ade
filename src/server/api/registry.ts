import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { AgnesError, errorMessage, isAgnesError } from '../../core/errors.js';
import type { Connector, ConnectorRegistry, DiscoveredTable } from '../../core/extract/connector.js';
import { discoverPublished } from '../../core/extract/discover-published.js';
import { isValidSourceName } from '../../core/ids.js';
import type { RegistryEntry, RegistryPatch } from '../../core/state/repositories/index.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { AgnesApp } from '../app.js';
import { errors, NullableTimestamp } from '../schemas.js';
import type { AppServices } from '../services.js';
import {
  checkRules,
  deriveTableId,
  primaryKeyText,
  RegisterBody,
  RegistryRow,
  registryRowView,
  UpdateBody,
  type UpdateInput,
} from './registry-input.js';
import { type KnownSource, knownSources } from './source-catalog.js';
import { JobSchema, jobView, RebuildReportSchema, SourceReportSchema } from './sync-schemas.js';

const TableParams = Type.Object({ table_id: Type.String({ minLength: 1, maxLength: 200 }) });
const SourceQuery = Type.Object(
  { source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

const DiscoveredSchema = Type.Object({
  source: Type.String(),
  source_type: Type.String(),
  suggested_id: Type.String(),
  name: Type.String(),
  bucket: Type.String(),
  source_table: Type.String(),
  columns: Type.Array(Type.Object({ name: Type.String(), type: Type.String() })),
  rows: Type.Union([Type.Integer(), Type.Null()]),
  size_bytes: Type.Union([Type.Integer(), Type.Null()]),
  primary_key: Type.Array(Type.String()),
  last_change: NullableTimestamp,
  registered: Type.Boolean(),
});

const notFound = () => new AgnesError('not_found', 'table not found');
const unknownSource = () => new AgnesError('not_found', 'source not found');

/** Upstream failures are reported per source with one generic message (03 §12: no exception text). */
const DISCOVERY_FAILED = 'discovery failed; see the server log';

/** The connector type of a source to register: configured, else the connector owning the name, else the registry's. */
function sourceTypeOf(ctx: Runtime, registry: readonly RegistryEntry[], source: string): string | undefined {
  const configured = ctx.sources.find((s) => s.name === source);
  if (configured) return configured.type;
  if (ctx.connectors.has(source)) return source;
  return registry.find((r) => r.source === source)?.source_type;
}

function unknownType(): AgnesError {
  return new AgnesError('validation_failed', 'request validation failed', {
    extra: {
      errors: [{ path: '/body/source_type', message: 'is required for a source that is not configured' }],
    },
  });
}

/** The connector of a type to register tables of: one this instance runs. */
function connectorOf(connectors: ConnectorRegistry, type: string): Connector {
  const connector = connectors.get(type);
  if (!connector)
    throw new AgnesError('validation_failed', 'request validation failed', {
      extra: { errors: [{ path: '/body/source_type', message: 'is not a known connector type' }] },
    });
  return connector;
}

function checkSourceName(source: string): void {
  if (!isValidSourceName(source))
    throw new AgnesError('validation_failed', 'request validation failed', {
      extra: { errors: [{ path: '/body/source', message: 'is a reserved source name' }] },
    });
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

async function discoverSource(ctx: Runtime, source: KnownSource): Promise<DiscoveredTable[]> {
  const connector = source.configured ? ctx.connectors.get(source.type) : undefined;
  if (source.configured && connector?.discover) {
    return connector.discover({
      name: source.name,
      type: source.type,
      config: source.configured.config,
      extractDir: join(ctx.dataDir, 'extracts', source.name),
      env: ctx.env,
    });
  }
  const states = (await ctx.repos.syncState.listStates({ source: source.name })).filter(
    (s) => s.status === 'ok',
  );
  return discoverPublished(ctx.dataDir, states);
}

/**
 * Table registry administration (03 §12): discover, list, register, update, unregister, plus the
 * synchronous rebuild and the list of sources. Every route is admin-only.
 */
export async function registryRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;
  const { repos } = ctx;

  app.get(
    '/api/admin/discover-tables',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Tables the configured sources offer, through each connector’s discovery',
        querystring: SourceQuery,
        response: {
          200: Type.Object({
            tables: Type.Array(DiscoveredSchema),
            count: Type.Integer(),
            sources: Type.Array(
              Type.Object({
                name: Type.String(),
                status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
                error: Type.Optional(Type.String()),
              }),
            ),
          }),
          ...errors(401, 403, 404, 422),
        },
      },
    },
    async (request) => {
      const [registry, states] = await Promise.all([repos.registry.list(), repos.syncState.listStates()]);
      const candidates = (await knownSources(ctx, registry, states)).filter(
        (s) => s.configured || s.published,
      );
      const wanted = request.query.source;
      const selected = wanted === undefined ? candidates : candidates.filter((s) => s.name === wanted);
      if (wanted !== undefined && selected.length === 0) throw unknownSource();
      const tables: (typeof DiscoveredSchema.static)[] = [];
      const sources: { name: string; status: 'ok' | 'error'; error?: string }[] = [];
      for (const source of selected) {
        let discovered: DiscoveredTable[];
        try {
          discovered = await discoverSource(ctx, source);
        } catch (error) {
          request.log.warn({ source: source.name, err: errorMessage(error) }, 'table discovery failed');
          sources.push({ name: source.name, status: 'error', error: DISCOVERY_FAILED });
          continue;
        }
        sources.push({ name: source.name, status: 'ok' });
        for (const table of discovered) {
          const suggested = deriveTableId(table.name) ?? deriveTableId(table.source_table) ?? 't_table';
          const registered = registry.some(
            (r) => r.source === source.name && (r.id === suggested || r.source_table === table.source_table),
          );
          tables.push({
            source: source.name,
            source_type: source.type,
            suggested_id: suggested,
            ...table,
            registered,
          });
        }
      }
      return { tables, count: tables.length, sources };
    },
  );

  app.get(
    '/api/admin/registry',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Registered tables, ordered by name',
        querystring: Type.Object(
          {
            source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            search: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ tables: Type.Array(RegistryRow), count: Type.Integer() }),
          ...errors(401, 403, 422),
        },
      },
    },
    async (request) => {
      const { source, search } = request.query;
      let rows = await repos.registry.list(source === undefined ? {} : { source });
      if (search !== undefined) {
        const needle = search.toLowerCase();
        rows = rows.filter((r) =>
          [r.id, r.name, r.description ?? '', r.bucket].some((v) => v.toLowerCase().includes(needle)),
        );
      }
      return { tables: rows.map(registryRowView), count: rows.length };
    },
  );

  app.post(
    '/api/admin/register-table',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Register a table; optionally queue its first sync',
        body: RegisterBody,
        response: {
          201: Type.Object({
            id: Type.String(),
            name: Type.String(),
            status: Type.Literal('registered'),
            job_id: Type.Optional(Type.String()),
          }),
          ...errors(401, 403, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const { sync_now, id: givenId, ...body } = request.body;
      request.audit = { action: 'registry.register', resource: givenId ?? null, params: request.body };
      const id = givenId ?? deriveTableId(body.name);
      if (!id)
        throw new AgnesError('validation_failed', 'request validation failed', {
          extra: { errors: [{ path: '/body/id', message: 'is required when the name yields no table id' }] },
        });
      request.audit.resource = id;
      checkSourceName(body.source);
      const registry = await repos.registry.list();
      const sourceType = body.source_type ?? sourceTypeOf(ctx, registry, body.source);
      if (!sourceType) throw unknownType();
      const { traits } = connectorOf(ctx.connectors, sourceType);
      const patch = patchOf(body);
      checkRules(
        {
          source_type: sourceType,
          sync_strategy: patch.sync_strategy ?? 'full_refresh',
          query_mode: patch.query_mode ?? 'local',
          sync_schedule: patch.sync_schedule ?? null,
          primary_key: patch.primary_key ?? null,
          partition_by: patch.partition_by ?? null,
          partition_granularity: patch.partition_granularity ?? null,
        },
        traits,
      );
      let entry: RegistryEntry;
      try {
        entry = await repos.registry.register({
          ...patch,
          id,
          name: body.name,
          source: body.source,
          source_type: sourceType,
          registered_by: request.auth!.principal.id,
        });
      } catch (error) {
        if (isAgnesError(error) && error.code === 'conflict')
          throw new AgnesError('already_registered', 'a table with this id is already registered', {
            extra: { id },
          });
        throw error;
      }
      let jobId: string | undefined;
      const configured = ctx.sources.find((s) => s.name === entry.source);
      if (sync_now && configured) {
        const job = await ctx.jobs.enqueueSync({
          source: entry.source,
          tables: [entry.id],
          requestedBy: request.auth!.principal.id,
        });
        jobId = job.id;
      }
      return reply.status(201).send({
        id: entry.id,
        name: entry.name,
        status: 'registered' as const,
        ...(jobId ? { job_id: jobId } : {}),
      });
    },
  );

  app.put(
    '/api/admin/registry/:table_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Change a registered table (any field but its id)',
        params: TableParams,
        body: UpdateBody,
        response: {
          200: Type.Object({ id: Type.String(), updated: Type.Array(Type.String()) }),
          ...errors(401, 403, 404, 422),
        },
      },
    },
    async (request) => {
      const { table_id } = request.params;
      request.audit = { action: 'registry.update', resource: table_id, params: request.body };
      const registry = await repos.registry.list();
      const existing = registry.find((r) => r.id === table_id);
      if (!existing) throw notFound();
      const body = request.body;
      if (body.source !== undefined) checkSourceName(body.source);
      const sourceType =
        body.source_type ??
        (body.source !== undefined && body.source !== existing.source
          ? (sourceTypeOf(ctx, registry, body.source) ?? existing.source_type)
          : existing.source_type);
      const { traits } = connectorOf(ctx.connectors, sourceType);
      const patch = patchOf(body);
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
      const updated = await repos.registry.update(table_id, patch);
      if (!updated) throw notFound();
      return { id: table_id, updated: Object.keys(body) };
    },
  );

  app.delete(
    '/api/admin/registry/:table_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Unregister a table: its grants, pending requests and profile go; data and views stay',
        params: TableParams,
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { table_id } = request.params;
      request.audit = { action: 'registry.unregister', resource: table_id };
      await repos.transaction(async (r) => {
        if (!(await r.registry.delete(table_id))) throw notFound();
        // Grants on exactly this id; bucket wildcards may still cover other tables.
        await r.permissions.revokeAllForDataset(table_id);
        await r.accessRequests.cancelPendingForTable(table_id);
        await r.profiles.delete(table_id);
      });
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/admin/rebuild',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Rebuild the analytics views, of every source or one (synchronous)',
        querystring: SourceQuery,
        response: { 200: RebuildReportSchema, ...errors(400, 401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      const { source } = request.query;
      request.audit = {
        action: 'analytics.rebuild',
        resource: source ?? null,
        params: { source: source ?? null },
      };
      if (source === undefined) return ctx.orchestrator.rebuild();
      if (!isValidSourceName(source))
        throw new AgnesError('invalid_name', 'source name is not a valid identifier');
      // Unknown: not configured, no directory in extracts/ and no views (02 §2.3: a source with
      // views but no extract is rebuilt, which removes its views).
      const [registry, states] = await Promise.all([
        repos.registry.list({ source }),
        repos.syncState.listStates({ source }),
      ]);
      const known = (await knownSources(ctx, registry, states)).find((s) => s.name === source);
      if (!known || !(known.configured || known.hasExtractDir || known.published)) throw unknownSource();
      return ctx.orchestrator.rebuildSource(source);
    },
  );

  app.get(
    '/api/admin/sources',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Every known source: configuration, registered tables, last rebuild and last job',
        response: {
          200: Type.Object({
            sources: Type.Array(
              Type.Object({
                name: Type.String(),
                type: Type.String(),
                configured: Type.Boolean(),
                push: Type.Boolean(),
                tables_registered: Type.Integer(),
                last_rebuild: Type.Union([
                  Type.Pick(SourceReportSchema, [
                    'status',
                    'reason',
                    'tables',
                    'remote_tables',
                    'skipped_tables',
                  ]),
                  Type.Null(),
                ]),
                last_job: Type.Union([JobSchema, Type.Null()]),
              }),
            ),
          }),
          ...errors(401, 403),
        },
      },
    },
    async () => {
      const [registry, states, published] = await Promise.all([
        repos.registry.list(),
        repos.syncState.listStates(),
        ctx.orchestrator.published().catch(() => null),
      ]);
      const sources = [];
      for (const source of await knownSources(ctx, registry, states)) {
        const report = published?.build.report?.sources[source.name];
        const lastJob = (
          await repos.jobs.list({ source: source.name, kind: 'sync' }, { page: 1, per_page: 1 })
        ).items[0];
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
      return { sources };
    },
  );
}

/**
 * The last published build's report covers only the sources it rebuilt; for the others the state
 * store says the same: `sync_state` mirrors what their last rebuild published and skipped.
 */
function lastRebuildFromState(
  states: readonly {
    source: string;
    table_id: string;
    status: string;
    layout: string;
    error: string | null;
  }[],
  source: string,
) {
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

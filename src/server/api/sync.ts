import { Type } from '@sinclair/typebox';
import {
  JobListSchema,
  JobSchema,
  ManifestSchema,
  SyncHistorySchema,
  SyncTriggerRequestSchema,
  SyncTriggerResponseSchema,
} from '../../contract/index.js';
import type { Job } from '../../core/state/repositories/index.js';
import { CatalogSnapshots } from '../../core/sync/catalog-snapshot.js';
import { GenerationTracker } from '../../core/sync/generation.js';
import { getJob, listJobs, syncHistory, syncManifest, triggerSync } from '../../core/usecases/sync.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors, Id, PagedQuery, pageOf } from '../schemas.js';
import { noneMatch } from './http-conditional.js';

const JobStatusSchema = Type.Union(
  ['queued', 'running', 'succeeded', 'partial', 'failed', 'interrupted'].map((s) => Type.Literal(s)),
);

/**
 * Sync (03 §4): the per-user manifest, the admin's trigger and job views, and sync history.
 * `GET/POST /api/sync/settings` and the table subscriptions live in `settings.ts`.
 */
export async function syncRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;
  const generation = new GenerationTracker(ctx.orchestrator.analyticsPath, () =>
    ctx.orchestrator.currentGeneration(),
  );
  const catalog = new CatalogSnapshots(ctx.repos);

  app.get(
    '/api/sync/manifest',
    {
      config: { auth: 'analyst+' },
      schema: {
        tags: ['sync'],
        summary: 'What you may sync: readable, published tables narrowed by your sync settings',
        response: { 200: ManifestSchema, 304: Type.Null(), ...errors(401, 403, 503) },
      },
    },
    async (request, reply) => {
      const built = await syncManifest(
        { repos: ctx.repos, generation, catalog, policies: ctx.policies },
        request.auth!.principal,
      );
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
        body: SyncTriggerRequestSchema,
        response: {
          202: SyncTriggerResponseSchema,
          ...errors(401, 403, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      request.audit = {
        action: 'sync.trigger',
        resource: Array.isArray(body) ? null : (body.source ?? null),
        params: Array.isArray(body) ? { tables: body } : body,
      };
      return reply.status(202).send(await triggerSync(ctx, request.auth!.principal, body));
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
        response: { 200: JobListSchema, ...errors(401, 403, 422) },
      },
    },
    async (request) =>
      listJobs(ctx, { status: request.query.status as Job['status'] | undefined }, pageOf(request.query)),
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
    async (request) => getJob(ctx, request.params.job_id),
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
        response: { 200: SyncHistorySchema, ...errors(401, 422) },
      },
    },
    async (request) => syncHistory(ctx, request.auth!.principal, request.query, pageOf(request.query)),
  );
}

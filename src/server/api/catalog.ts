import { Type } from '@sinclair/typebox';
import {
  CatalogTableSchema,
  MetricSummarySchema,
  ServedProfileSchema,
  TableDetailSchema,
} from '../../contract/index.js';
import {
  listCatalog,
  listReadableMetrics,
  readableMetric,
  readableProfile,
  refreshProfile,
  tableDetail,
} from '../../core/usecases/catalog.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors, Id } from '../schemas.js';

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

/**
 * The catalog (03 §7, preview excepted): what tables exist for the caller, their columns, stored
 * profiles filtered per reader, forced re-profiling through the job runner, and the metric
 * definitions under `DATA_DIR/docs/metrics`. Every table check goes through the access function;
 * invisible tables are 404, visible but unreadable ones 403 (04 §6.2 object-level checks and the 403/404 policy).
 */
export async function catalogRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;

  app.get(
    '/api/catalog/tables',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['catalog'],
        summary: 'Readable tables; with include_locked also discoverable tables you cannot read',
        querystring: ListQuery,
        response: {
          200: Type.Object({ tables: Type.Array(CatalogTableSchema), count: Type.Integer() }),
          ...errors(401, 422),
        },
      },
    },
    async (request) => {
      const tables = await listCatalog(ctx, request.auth!.principal, request.query);
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
        response: { 200: TableDetailSchema, ...errors(401, 404, 422) },
      },
    },
    async (request) => tableDetail(ctx, request.auth!.principal, request.params.table_id),
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
    async (request) => readableProfile(ctx, request.auth!.principal, request.params.table_id),
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
      return reply.status(202).send(await refreshProfile(ctx, request.auth!.principal, table_id));
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
          200: Type.Object({ metrics: Type.Array(MetricSummarySchema), count: Type.Integer() }),
          ...errors(401),
        },
      },
    },
    async (request) => {
      const { metrics, invalid } = await listReadableMetrics(ctx, request.auth!.principal);
      if (invalid.length > 0) request.log.warn({ files: invalid }, 'metric files that do not parse');
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
      return readableMetric(ctx, request.auth!.principal, request.params['*']);
    },
  );
}

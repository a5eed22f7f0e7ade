import { Type } from '@sinclair/typebox';
import {
  DiscoveredTablesSchema,
  RebuildReportSchema,
  RegisteredTableSchema,
  RegistryListSchema,
  RegistryUpdatedSchema,
  SourceListSchema,
} from '../../contract/index.js';
import {
  discoverTables,
  listRegistry,
  listSources,
  rebuildViews,
  registerTable,
  unregisterTable,
  updateTable,
} from '../../core/usecases/registry.js';
import { deriveTableId, RegisterBody, UpdateBody } from '../../core/usecases/registry-input.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors } from '../schemas.js';

const TableParams = Type.Object({ table_id: Type.String({ minLength: 1, maxLength: 200 }) });
const SourceQuery = Type.Object(
  { source: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
  { additionalProperties: false },
);

/**
 * Table registry administration (03 §12): discover, list, register, update, unregister, plus the
 * synchronous rebuild and the list of sources. Every route is admin-only.
 */
export async function registryRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;

  app.get(
    '/api/admin/discover-tables',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Tables the configured sources offer, through each connector’s discovery',
        querystring: SourceQuery,
        response: { 200: DiscoveredTablesSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (request) => {
      const { failures, ...answer } = await discoverTables(ctx, request.query);
      for (const { source, error } of failures)
        request.log.warn({ source, err: error }, 'table discovery failed');
      return answer;
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
        response: { 200: RegistryListSchema, ...errors(401, 403, 422) },
      },
    },
    async (request) => {
      const tables = await listRegistry(ctx, request.query);
      return { tables, count: tables.length };
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
        response: { 201: RegisteredTableSchema, ...errors(401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const { body } = request;
      request.audit = {
        action: 'registry.register',
        resource: body.id ?? deriveTableId(body.name),
        params: body,
      };
      return reply.status(201).send(await registerTable(ctx, request.auth!.principal, body));
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
        response: { 200: RegistryUpdatedSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (request) => {
      const { table_id } = request.params;
      request.audit = { action: 'registry.update', resource: table_id, params: request.body };
      return updateTable(ctx, table_id, request.body);
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
      await unregisterTable(ctx, table_id);
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
      return rebuildViews(ctx, request.query);
    },
  );

  app.get(
    '/api/admin/sources',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Every known source: configuration, registered tables, last rebuild and last job',
        response: { 200: SourceListSchema, ...errors(401, 403) },
      },
    },
    async () => ({ sources: await listSources(ctx) }),
  );
}

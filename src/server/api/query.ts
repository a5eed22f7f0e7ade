import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { type QueryResult, QueryResultSchema } from '../../contract/index.js';
import { previewTable, queryRequest, runQuery } from '../../core/usecases/query.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { routeLimit } from '../plugins/rate-limits.js';
import { errors, Id } from '../schemas.js';

/** The audit entry keeps at most this much of the SQL (05 §2 pipeline step 9). */
const AUDIT_SQL_CHARS = 2_000;

const QUERY_ERRORS = errors(400, 401, 403, 408, 413, 422, 429, 503);

function auditQuery(request: FastifyRequest, action: string, sql: string, extra: Record<string, unknown>) {
  request.audit = { action, params: { sql: sql.slice(0, AUDIT_SQL_CHARS), ...extra } };
}

const auditResult = (result: QueryResult) => ({
  row_count: result.row_count,
  truncated: result.truncated,
  elapsed_ms: result.elapsed_ms,
});

/**
 * SQL over the caller's tables (03 §6, 05): `POST /api/query`, `POST /api/query/export` and the
 * catalog preview. All three go through the one query engine, so the guard, the caller's sandbox
 * and the limits apply alike.
 */
export async function queryRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, query: engine } = services.ctx;
  const rateLimit = routeLimit(config, 'query');
  const sqlText = Type.String({ description: `At most ${config.query.max_sql_bytes} UTF-8 bytes` });

  app.post(
    '/api/query',
    {
      config: { auth: 'analyst+', audit: 'query.execute', rateLimit },
      schema: {
        tags: ['query'],
        summary: 'Run one SELECT over the tables you may read',
        body: Type.Object(
          {
            sql: sqlText,
            limit: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: config.query.max_limit,
                default: config.query.default_limit,
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: QueryResultSchema, ...QUERY_ERRORS },
      },
    },
    async (request) => {
      const { sql, limit } = request.body;
      auditQuery(request, 'query.execute', sql, {});
      let policies = {};
      const result = await runQuery(services.ctx, request.auth!.principal, {
        sql,
        limit: limit ?? config.query.default_limit,
        requestId: String(request.id),
        onPolicyAudit: (params) => {
          policies = params;
        },
      });
      auditQuery(request, 'query.execute', sql, { ...auditResult(result), ...policies });
      return result;
    },
  );

  app.post(
    '/api/query/export',
    {
      config: { auth: 'analyst+', audit: 'query.export', rateLimit },
      schema: {
        tags: ['query'],
        summary: 'Stream the full result of one SELECT as CSV, NDJSON or Parquet',
        body: Type.Object(
          {
            sql: sqlText,
            format: Type.Union([Type.Literal('csv'), Type.Literal('ndjson'), Type.Literal('parquet')]),
            max_rows: Type.Optional(Type.Integer({ minimum: 1, maximum: config.query.max_export_rows })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            description: 'The result as an attachment (export.csv, export.ndjson or export.parquet)',
            content: {
              'text/csv': { schema: Type.String() },
              'application/x-ndjson': { schema: Type.String() },
              'application/vnd.apache.parquet': { schema: Type.String({ format: 'binary' }) },
            },
          },
          ...QUERY_ERRORS,
        },
      },
    },
    async (request, reply) => {
      const { sql, format, max_rows } = request.body;
      auditQuery(request, 'query.export', sql, { format });
      const prepared = await queryRequest(services.ctx, request.auth!.principal, sql, String(request.id));
      const exported = await engine.export(prepared, format, max_rows ?? config.query.max_export_rows);
      auditQuery(request, 'query.export', sql, { format, ...(await prepared.policyAudit()) });
      // A failure after the first byte cannot change the status: the connection is aborted.
      exported.stream.once('error', (error) => {
        request.log.warn({ err: error.message }, 'export failed after streaming started');
        reply.raw.destroy();
      });
      if (exported.size !== null) reply.header('Content-Length', String(exported.size));
      return reply
        .header('Content-Type', exported.contentType)
        .header('Content-Disposition', `attachment; filename="${exported.filename}"`)
        .send(exported.stream as never);
    },
  );

  app.get(
    '/api/catalog/tables/:table_id/preview',
    {
      config: { auth: 'analyst+', audit: 'catalog.preview', rateLimit },
      schema: {
        tags: ['catalog'],
        summary: 'The first rows of a table you may read, through the query guard',
        params: Type.Object({ table_id: Id }, { additionalProperties: false }),
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })) },
          { additionalProperties: false },
        ),
        response: { 200: QueryResultSchema, ...errors(401, 403, 404, 408, 422, 429, 503) },
      },
    },
    async (request) => {
      const { table_id } = request.params;
      let policies = {};
      const result = await previewTable(services.ctx, request.auth!.principal, {
        table_id,
        limit: request.query.limit ?? 20,
        requestId: String(request.id),
        onPolicyAudit: (params) => {
          policies = params;
        },
      });
      request.audit = {
        action: 'catalog.preview',
        resource: table_id,
        params: { ...auditResult(result), ...policies },
      };
      return result;
    },
  );
}

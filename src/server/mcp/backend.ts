import type { FastifyRequest } from 'fastify';
import { AgnesError, isAgnesError } from '../../core/errors.js';
import type { McpBackend, McpExtra } from '../../core/mcp/server.js';
import type { PolicyAuditParams } from '../../core/policies/enforce.js';
import { requestAccess } from '../../core/usecases/access-requests.js';
import { listCatalog, readableProfile, tableDetail } from '../../core/usecases/catalog.js';
import { searchMemory } from '../../core/usecases/memory.js';
import { previewTable, runQuery } from '../../core/usecases/query.js';
import type { Runtime } from '../../runtime/runtime.js';
import type { Authentication } from '../auth/principal.js';

/** One MCP call on the server: the request that carried it and the user it authenticated. */
export interface ServerCall {
  request: FastifyRequest;
  auth: Authentication;
  /** Row policies of a query or sample the call ran, for its audit entries (12 §3 Audit). */
  policyAudit?: PolicyAuditParams;
}

/** Counts one use of a shared rate limit for the request's user; throws `rate_limited` when over. */
export type Limiter = (request: FastifyRequest) => Promise<void>;

export interface ServerLimiters {
  /** `query`, shared with `POST /api/query` and the catalog preview (14 §3 limits). */
  query: Limiter;
  /** `access_request`, shared with `POST /api/access-requests`. */
  accessRequest: Limiter;
}

/** The request context the route hands to the transport (`authInfo.extra.call`). */
export function serverCallOf(extra: McpExtra): ServerCall {
  const call = extra.authInfo?.extra?.call as ServerCall | undefined;
  if (!call) throw new AgnesError('unauthorized', 'authentication required');
  return call;
}

/**
 * The server's MCP backend (14): the same use cases, access function and query engine as the
 * HTTP API, for the user of the request that carries each call (loaded afresh on every request).
 */
export function serverBackend(ctx: Runtime, limiters: ServerLimiters): McpBackend<ServerCall> {
  const principal = (call: ServerCall) => call.auth.principal;
  return {
    context: serverCallOf,
    role: async (call) => principal(call).role,
    catalog: (call, includeLocked) => listCatalog(ctx, principal(call), { include_locked: includeLocked }),
    tableDetail: (call, table) => tableDetail(ctx, principal(call), table),
    profile: async (call, table) => {
      try {
        return await readableProfile(ctx, principal(call), table);
      } catch (error) {
        if (isAgnesError(error) && error.code === 'not_found') return null;
        throw error;
      }
    },
    query: async (call, { sql, limit }) => {
      await limiters.query(call.request);
      return runQuery(ctx, principal(call), {
        sql,
        limit,
        requestId: String(call.request.id),
        onPolicyAudit: (params) => {
          call.policyAudit = params;
        },
      });
    },
    sampleRows: async (call, table, limit) => {
      await limiters.query(call.request);
      return previewTable(ctx, principal(call), {
        table_id: table,
        limit,
        requestId: String(call.request.id),
        onPolicyAudit: (params) => {
          call.policyAudit = params;
        },
      });
    },
    requestAccess: async (call, table, reason) => {
      await limiters.accessRequest(call.request);
      return requestAccess(ctx, principal(call), { table_id: table, reason });
    },
    searchMemory: (call, query, limit) => searchMemory(ctx, principal(call), { query, limit }),
  };
}

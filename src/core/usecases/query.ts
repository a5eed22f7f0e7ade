import type { QueryResult } from '../../contract/index.js';
import { type AccessView, loadAccessView } from '../access/access.js';
import type { Principal } from '../access/decide.js';
import { AgnesError } from '../errors.js';
import { isValidTableId } from '../ids.js';
import { type PolicyAuditParams, type PolicyEnforcement, QueryPolicies } from '../policies/enforce.js';
import type { QueryEngine, QueryRequest } from '../query/engine.js';
import type { Repositories } from '../state/repositories/index.js';

/**
 * SQL over the caller's tables (03 §6, 05): one statement, and the catalog preview of one table.
 * Every front end (`POST /api/query`, the catalog preview route, the MCP tools) runs through here,
 * so the guard, the caller's sandbox and the limits apply alike.
 */

export interface QueryDeps {
  repos: Repositories;
  query: QueryEngine;
  /** Row policies (12 §3); without it every table is read whole. */
  policies?: PolicyEnforcement;
}

/** A query request that also knows what its audit entry says about row policies. */
export interface PolicedQueryRequest extends QueryRequest {
  /** `params.policies` or `params.policy_bypass` of the audit entry, once the guard has run. */
  policyAudit(): Promise<PolicyAuditParams>;
}

/**
 * The caller as the query engine sees it: one access view per request (05 §3 tree walk rules)
 * and the caller's row-policy bindings, resolved by the engine for the generation it runs on.
 */
export async function queryRequest(
  deps: Pick<QueryDeps, 'repos' | 'policies'>,
  principal: Principal,
  sql: string,
  requestId: string,
  view?: AccessView,
): Promise<PolicedQueryRequest> {
  const access = view ?? (await loadAccessView(deps.repos, principal));
  const policies = new QueryPolicies(deps.policies, principal);
  const bindings = policies.resolver;
  return {
    caller: {
      userId: principal.id,
      admin: principal.role === 'admin',
      readable: access.readableTables(),
      isVisible: (id) => access.isVisible(id),
      ...(bindings ? { bindings } : {}),
    },
    sql,
    requestId,
    onChecked: policies.checked,
    policyAudit: () => policies.auditParams(),
  };
}

/** Told the row-policy part of the audit entry once the query has run. */
type AuditSink = { onPolicyAudit?: (params: PolicyAuditParams) => void };

export async function runQuery(
  deps: QueryDeps,
  principal: Principal,
  input: { sql: string; limit: number; requestId: string } & AuditSink,
): Promise<QueryResult> {
  const request = await queryRequest(deps, principal, input.sql, input.requestId);
  return runAudited(deps, request, input.limit, input);
}

async function runAudited(
  { query }: QueryDeps,
  request: PolicedQueryRequest,
  limit: number,
  sink: AuditSink,
): Promise<QueryResult> {
  const result = await query.query(request, limit);
  sink.onPolicyAudit?.(await request.policyAudit());
  return result;
}

/** The guard alone, with the caller's rights: for SQL stored now and run later (an alert's). */
export async function checkQuery(
  deps: QueryDeps,
  principal: Principal,
  input: { sql: string; requestId: string },
): Promise<void> {
  await deps.query.check(await queryRequest(deps, principal, input.sql, input.requestId));
}

/**
 * The first `limit` rows of a registered table the caller can read (03 §7 preview), through the
 * guard. A table the caller may not see is "not found", like an id that names nothing.
 */
export async function previewTable(
  deps: QueryDeps,
  principal: Principal,
  input: { table_id: string; limit: number; requestId: string } & AuditSink,
): Promise<QueryResult> {
  const { table_id, limit } = input;
  const view = await loadAccessView(deps.repos, principal);
  if (!isValidTableId(table_id) || !view.isVisible(table_id) || !view.table(table_id))
    throw new AgnesError('not_found', 'table not found');
  if (!view.canRead(table_id).allowed)
    throw new AgnesError('table_forbidden', 'you do not have read access to this table');
  // The id matched the table-id pattern, so it can be quoted as an identifier as it is.
  const sql = `SELECT * FROM "${table_id}" LIMIT ${limit}`;
  return runAudited(deps, await queryRequest(deps, principal, sql, input.requestId, view), limit, input);
}

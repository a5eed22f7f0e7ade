import type { QueryResult } from '../../contract/index.js';
import { type AccessView, loadAccessView } from '../access/access.js';
import type { Principal } from '../access/decide.js';
import { AgnesError } from '../errors.js';
import { isValidTableId } from '../ids.js';
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
}

/** The caller as the query engine sees it: one access view per request (05 §3 tree walk rules). */
export async function queryRequest(
  repos: Repositories,
  principal: Principal,
  sql: string,
  requestId: string,
  view?: AccessView,
): Promise<QueryRequest> {
  const access = view ?? (await loadAccessView(repos, principal));
  return {
    caller: {
      userId: principal.id,
      admin: principal.role === 'admin',
      readable: access.readableTables(),
      isVisible: (id) => access.isVisible(id),
    },
    sql,
    requestId,
  };
}

export async function runQuery(
  { repos, query }: QueryDeps,
  principal: Principal,
  input: { sql: string; limit: number; requestId: string },
): Promise<QueryResult> {
  return query.query(await queryRequest(repos, principal, input.sql, input.requestId), input.limit);
}

/** The guard alone, with the caller's rights: for SQL stored now and run later (an alert's). */
export async function checkQuery(
  { repos, query }: QueryDeps,
  principal: Principal,
  input: { sql: string; requestId: string },
): Promise<void> {
  await query.check(await queryRequest(repos, principal, input.sql, input.requestId));
}

/**
 * The first `limit` rows of a registered table the caller can read (03 §7 preview), through the
 * guard. A table the caller may not see is "not found", like an id that names nothing.
 */
export async function previewTable(
  { repos, query }: QueryDeps,
  principal: Principal,
  input: { table_id: string; limit: number; requestId: string },
): Promise<QueryResult> {
  const { table_id, limit } = input;
  const view = await loadAccessView(repos, principal);
  if (!isValidTableId(table_id) || !view.isVisible(table_id) || !view.table(table_id))
    throw new AgnesError('not_found', 'table not found');
  if (!view.canRead(table_id).allowed)
    throw new AgnesError('table_forbidden', 'you do not have read access to this table');
  // The id matched the table-id pattern, so it can be quoted as an identifier as it is.
  const sql = `SELECT * FROM "${table_id}" LIMIT ${limit}`;
  return query.query(await queryRequest(repos, principal, sql, input.requestId, view), limit);
}

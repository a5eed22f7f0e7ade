import type { Principal } from '../access/decide.js';
import type { SqlParser } from '../query/sql-parser.js';
import type { Repositories } from '../state/repositories/index.js';
import type { EffectiveView, TableColumn } from './types.js';

export interface PolicyLoadDeps {
  repos: Repositories;
  parser: SqlParser;
  /** The table's current columns (its published files described), for binding and fail-closed checks. */
  columnsOf(tableId: string): Promise<TableColumn[]>;
}

/**
 * The effective views (12 §3 `effectiveView`) of the policy-bound tables among `tableIds` for one
 * principal, loaded once per request beside `readableTables`. Unbound tables and admins are absent
 * from the map: they read the full table. Signature fixed for the helpers building both sides.
 */
export async function loadEffectiveViews(
  _deps: PolicyLoadDeps,
  _principal: Principal,
  _tableIds: readonly string[],
): Promise<Map<string, EffectiveView>> {
  return new Map();
}

import type { Principal } from '../access/decide.js';
import type { InstanceConfig } from '../config/index.js';
import { activeAdminIds, notifyUsers } from '../notifications/notify.js';
import type { SqlParser } from '../query/sql-parser.js';
import type { Repositories } from '../state/repositories/index.js';
import { evaluatePolicies } from './evaluate.js';
import type { EffectiveView, PolicySubject, RowPolicy, TableColumn } from './types.js';

export interface PolicyLoadDeps {
  repos: Repositories;
  parser: SqlParser;
  /** The table's current columns (its published files described), for binding and fail-closed checks. */
  columnsOf(tableId: string): Promise<TableColumn[]>;
  /** Which channels the failure notifications to admins use (12 §2). */
  config: InstanceConfig;
}

/** The parts of the runtime that loading reads, as the runtime object holds them. */
export interface PolicyRuntime {
  repos: Repositories;
  config: InstanceConfig;
  query: { readonly parser: SqlParser };
  policyColumns: { columnsOf(tableId: string): Promise<TableColumn[]> };
}

export function policyLoadDeps(runtime: PolicyRuntime): PolicyLoadDeps {
  return {
    repos: runtime.repos,
    config: runtime.config,
    parser: runtime.query.parser,
    columnsOf: (tableId) => runtime.policyColumns.columnsOf(tableId),
  };
}

/**
 * The effective views (12 §3 `effectiveView`) of the policy-bound tables among `tableIds` for one
 * principal, loaded once per request beside `readableTables`. Unbound tables and admins are absent
 * from the map: they read the full table. Signature fixed for the helpers building both sides.
 *
 * Two queries (the tables' policies, the principal's attributes) plus the columns of each bound
 * table; a policy's `error` is written only when whether it binds has changed.
 */
export async function loadEffectiveViews(
  deps: PolicyLoadDeps,
  principal: Principal,
  tableIds: readonly string[],
): Promise<Map<string, EffectiveView>> {
  const views = new Map<string, EffectiveView>();
  if (principal.role === 'admin' || tableIds.length === 0) return views;
  const policies = await deps.repos.policies.listForTables(tableIds);
  if (policies.length === 0) return views;
  const byTable = new Map<string, RowPolicy[]>();
  for (const policy of policies) {
    const list = byTable.get(policy.table_id);
    if (list) list.push(policy);
    else byTable.set(policy.table_id, [policy]);
  }
  const subject: PolicySubject = {
    id: principal.id,
    email: principal.email,
    groups: principal.groups,
    attributes: await deps.repos.userAttributes.get(principal.id),
  };
  await Promise.all(
    [...byTable].map(async ([tableId, tablePolicies]) => {
      const columns = await deps.columnsOf(tableId);
      views.set(tableId, await evaluatePolicies(deps.parser, subject, tablePolicies, columns));
    }),
  );
  await recordBinding(deps, policies, views);
  return views;
}

/**
 * Keeps each evaluated policy's `error` (12 §2 fails closed): set to the safe reason when it fails,
 * cleared when it binds again, and each admin told once per failure.
 */
async function recordBinding(
  deps: PolicyLoadDeps,
  policies: readonly RowPolicy[],
  views: ReadonlyMap<string, EffectiveView>,
): Promise<void> {
  const byId = new Map(policies.map((policy) => [policy.id, policy]));
  const failed: { policy: RowPolicy; reason: string }[] = [];
  const writes: Promise<unknown>[] = [];
  for (const view of views.values()) {
    for (const { policy_id, reason } of view.failures) {
      const policy = byId.get(policy_id);
      if (!policy || policy.error === reason) continue;
      writes.push(
        deps.repos.policies.setError(policy_id, reason).then((newly) => {
          if (newly) failed.push({ policy, reason });
        }),
      );
    }
    for (const { id } of view.policies)
      if (byId.get(id)?.error != null) writes.push(deps.repos.policies.setError(id, null));
  }
  await Promise.all(writes);
  if (failed.length === 0) return;
  const admins = await activeAdminIds(deps.repos);
  for (const { policy, reason } of failed)
    await notifyUsers(deps.repos, deps.config, admins, {
      title: `Row policy failed: ${policy.table_id} / ${policy.name}`,
      message: `${reason}. Until it is fixed, its readers see no rows of the table.`,
      sourceKind: 'system',
      sourceId: policy.id,
    });
}

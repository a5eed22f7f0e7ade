import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Principal } from '../../../src/core/access/decide.js';
import type { EffectiveView, MaskedColumn } from '../../../src/core/policies/types.js';
import { toJson } from '../../../src/core/state/schema.js';
import { nowIso } from '../../../src/core/time.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { registerTable } from '../../server/api/fixtures.js';
import { makeExtract } from '../../support/extracts.js';

export const SALT = 'test-policy-salt-0123456789abcdef0123456789';

const REGIONS = "['EU', 'US', 'APAC', 'LATAM'][(range % 4) + 1]";

/**
 * Source `crm`: `sales` (40 rows, a quarter of them `EU`) and `customers` (7 rows), both keyed by
 * `customer`, registered in bucket `crm`; plus `plain`, never bound.
 */
export async function publishCrm(ctx: Runtime, dataDir: string): Promise<void> {
  await makeExtract(join(dataDir, 'extracts'), 'crm', [
    {
      name: 'sales',
      select: `SELECT range AS id, ${REGIONS} AS region, 'c' || (range % 7) AS customer, (range * 10)::INTEGER AS amount FROM range(40)`,
    },
    { name: 'customers', select: `SELECT 'c' || range AS customer, 'Name ' || range AS name FROM range(7)` },
    { name: 'plain', rows: 3 },
  ]);
  const report = await ctx.orchestrator.rebuild();
  if (report.sources.crm?.status !== 'ok') throw new Error(`fixture rebuild: ${JSON.stringify(report)}`);
  for (const id of ['sales', 'customers', 'plain'])
    await registerTable(ctx, id, { source: 'crm', source_type: 'local', bucket: 'crm' });
}

export function sliceView(
  filter: string | null,
  masks: MaskedColumn[] = [],
  policies = [{ id: 'p-eu', name: 'EU only' }],
): EffectiveView {
  return { kind: 'slice', policies, bound_filter: filter, masks, failures: [] };
}

/**
 * Stands in for `loadEffectiveViews` (built by another part): the views a test sets, by table,
 * for every non-admin principal. Admins are never bound.
 */
export function injectViews(ctx: Runtime): Map<string, EffectiveView> {
  const views = new Map<string, EffectiveView>();
  ctx.policies.effectiveViews = async (principal: Principal, tableIds: readonly string[]) =>
    new Map(
      principal.role === 'admin'
        ? []
        : tableIds.filter((id) => views.has(id)).map((id) => [id, views.get(id)!] as const),
    );
  return views;
}

/** A stored policy row, so the table counts as policy-bound (admins' `policy_bypass`). */
export async function storePolicy(ctx: Runtime, tableId: string): Promise<void> {
  const now = nowIso();
  await ctx.db
    .insertInto('row_policies')
    .values({
      id: randomUUID(),
      table_id: tableId,
      name: `policy of ${tableId}`,
      name_key: `policy of ${tableId}`,
      description: '',
      applies_to: toJson({ everyone: true, users: [], groups: [] }),
      row_filter: "region = 'EU'",
      masked_columns: toJson([]),
      enabled: true,
      error: null,
      created_by: null,
      created_at: now,
      updated_by: null,
      updated_at: now,
    })
    .execute();
}

import type { ManifestTable } from '../../contract/index.js';
import type { Principal } from '../access/decide.js';
import type { ViewMapRow } from '../orchestrator/view-map.js';
import type { PublishedGeneration } from '../query/published-views.js';
import type { BindingResolver, TableBinding } from '../query/types.js';
import type { Repositories, SyncState } from '../state/repositories/index.js';
import type { PolicySalt } from './salt.js';
import type { SliceProfiles } from './slice-profiles.js';
import { type PolicySlices, type Slice, type SliceTable, sliceKey } from './slices.js';
import type { EffectiveView } from './types.js';

/**
 * Enforcement of row policies on the read paths (12 §3): what the query engine, the manifest,
 * the downloads and the catalog ask about one caller. The runtime fills it in with
 * `loadEffectiveViews` and the salt; tests give effective views of their own.
 */
export interface PolicyEnforcement {
  /** 12 §3 `effectiveView` of the policy-bound tables among `tableIds`; absent = the full table. */
  effectiveViews(principal: Principal, tableIds: readonly string[]): Promise<Map<string, EffectiveView>>;
  /** Which of `tableIds` are policy-bound at all (admins' `policy_bypass` audit). */
  boundTables(tableIds: readonly string[]): Promise<Set<string>>;
  slices: PolicySlices;
  /** Profiles of slices, computed on demand and cached by slice key. */
  profiles: SliceProfiles;
  salt(): Promise<PolicySalt>;
}

/** What a read by a policy-bound caller or by an admin of a bound table adds to its audit entry. */
export interface PolicyAuditParams {
  policies?: string[];
  policy_bypass?: 'admin';
}

export const isBoundReader = (principal: Principal) => principal.role !== 'admin';

/**
 * One caller's bindings in one published generation: a slice for a local table (built or found),
 * the filter and masks for a remote one. Several tables' slices are ensured at once.
 */
export async function resolveBindings(
  enforcement: PolicyEnforcement,
  views: ReadonlyMap<string, EffectiveView>,
  published: PublishedGeneration,
): Promise<Map<string, TableBinding>> {
  const entries = await Promise.all(
    [...views].map(async ([tableId, view]): Promise<[string, TableBinding] | null> => {
      const table = published.views.get(tableId);
      if (!table) return null;
      return [tableId, await bindingOf(enforcement, table, view)];
    }),
  );
  return new Map(entries.filter((e): e is [string, TableBinding] => e !== null));
}

async function bindingOf(
  enforcement: PolicyEnforcement,
  table: ViewMapRow,
  view: EffectiveView,
): Promise<TableBinding> {
  if (table.query_mode === 'local') {
    const slice: Slice = await enforcement.slices.ensure(table, view);
    return { kind: 'slice', key: slice.key, path: slice.path };
  }
  const hashed = view.masks.some((m) => m.mask === 'hash');
  const salt = hashed ? await enforcement.salt() : null;
  return {
    kind: 'inline',
    // A remote table has no content hash: its binding is the filter, masks and salt version.
    key: sliceKey(`remote:${table.table_id}`, view, salt?.saltVersion ?? null),
    filter: view.bound_filter,
    masks: view.masks,
    salt: salt?.salt ?? null,
  };
}

/**
 * A caller's policy side of one query: the engine's binding resolver and, once the guard has
 * named the tables the statement reads, the audit parameters (12 §3 Audit).
 */
export class QueryPolicies {
  readonly #enforcement: PolicyEnforcement | undefined;
  readonly #principal: Principal;
  #views = new Map<string, EffectiveView>();
  #read: readonly string[] = [];

  constructor(enforcement: PolicyEnforcement | undefined, principal: Principal) {
    this.#enforcement = enforcement;
    this.#principal = principal;
  }

  /** For `QueryCaller.bindings`; undefined when nothing is enforced (admins, no enforcement). */
  get resolver(): BindingResolver | undefined {
    const enforcement = this.#enforcement;
    if (!enforcement || !isBoundReader(this.#principal)) return undefined;
    return async (published, tableIds) => {
      this.#views = await enforcement.effectiveViews(this.#principal, tableIds);
      return resolveBindings(enforcement, this.#views, published);
    };
  }

  /** For `QueryRequest.onChecked`. */
  readonly checked = (tables: readonly string[]): void => {
    this.#read = tables;
  };

  async auditParams(): Promise<PolicyAuditParams> {
    return policyAudit(this.#enforcement, this.#principal, this.#read, this.#views);
  }
}

/** The audit parameters of a read of `tables` given the caller's effective views. */
export async function policyAudit(
  enforcement: PolicyEnforcement | undefined,
  principal: Principal,
  tables: readonly string[],
  views: ReadonlyMap<string, EffectiveView>,
): Promise<PolicyAuditParams> {
  if (!enforcement || tables.length === 0) return {};
  if (!isBoundReader(principal))
    return (await enforcement.boundTables(tables)).size > 0 ? { policy_bypass: 'admin' } : {};
  const ids = new Set<string>();
  let bound = false;
  for (const table of tables) {
    const view = views.get(table);
    if (!view) continue;
    bound = true;
    for (const policy of view.policies) ids.add(policy.id);
  }
  return bound ? { policies: [...ids].sort() } : {};
}

/** A bound reader's view of one table with, for a local table, their slice. */
export interface BoundTable {
  view: EffectiveView;
  slice: Slice | null;
}

/**
 * The bound reader's views of `tableIds` (absent = read whole) with their slices. Used by the
 * file paths (manifest, downloads, catalog figures), which read `sync_state` rather than the view
 * map; both carry the same content hash, so the key is the sandbox's. `load` is asked only for
 * bound tables.
 */
export async function boundTablesOf(
  enforcement: PolicyEnforcement | undefined,
  principal: Principal,
  tableIds: readonly string[],
  load: (tableId: string) => Promise<SliceTable | null>,
): Promise<Map<string, BoundTable>> {
  const out = new Map<string, BoundTable>();
  if (!enforcement || !isBoundReader(principal) || tableIds.length === 0) return out;
  const views = await enforcement.effectiveViews(principal, tableIds);
  await Promise.all(
    [...views].map(async ([tableId, view]) => {
      const table = await load(tableId);
      const local = table !== null && table.query_mode === 'local' && table.hash !== null;
      out.set(tableId, { view, slice: local ? await enforcement.slices.ensure(table, view) : null });
    }),
  );
  return out;
}

/** What a slice is built from, as `sync_state` records a published table. */
export async function publishedTable(
  repos: Pick<Repositories, 'syncState'>,
  tableId: string,
): Promise<SliceTable | null> {
  const state = await repos.syncState.getState(tableId);
  return state?.status === 'ok' ? sliceTableOf(state) : null;
}

export function sliceTableOf(state: SyncState): SliceTable {
  return {
    table_id: state.table_id,
    hash: state.hash,
    layout: state.layout,
    files: state.files,
    query_mode: state.query_mode,
  };
}

/** A bound reader's manifest entry (12 §3): the slice as one file named `<table_id>.parquet`. */
export function slicedManifestEntry(entry: ManifestTable, bound: BoundTable): ManifestTable {
  const policy = {
    names: bound.view.policies.map((p) => p.name),
    masked_columns: bound.view.masks.map((m) => ({ column: m.column, mask: m.mask })),
  };
  const { slice } = bound;
  if (!slice) return { ...entry, policy };
  return {
    ...entry,
    layout: 'single',
    rows: slice.rows,
    size_bytes: slice.size_bytes,
    hash: slice.sha256,
    files: [{ name: `${entry.id}.parquet`, size: slice.size_bytes, hash: slice.sha256 }],
    policy,
  };
}

import type { MaskedColumn } from '../policies/types.js';
import type { PublishedGeneration } from './published-views.js';

/** Shapes shared by the guard, the sandbox engine and its callers (05-query-guard.md). */

/** What the tree walk needs to know about the caller's tables (04 §6.2 object-level checks and the 403/404 policy). */
export interface TableAccess {
  /** Lower-case table ids the caller may read: one `readableTables()` call per request. */
  readonly readable: ReadonlySet<string>;
  /** Readable, or registered as discoverable: decides 403 against a 400 that reads like a typo. */
  isVisible(tableId: string): boolean;
}

/** Who runs a query, as the engine sees it. */
export interface QueryCaller {
  userId: string;
  /** Admins read every published view, registered or not (04 §6.1 the access function rule 2). */
  admin: boolean;
  /** Table ids the caller may read (`AccessView.readableTables()`), ignored for admins. */
  readable: readonly string[];
  isVisible(tableId: string): boolean;
  /**
   * The caller's row policies (12 §3): the bindings of the policy-bound tables among `tableIds`
   * in `published`. Absent for admins and in tests without policies: every table is read whole.
   */
  bindings?: BindingResolver;
}

/**
 * How the sandbox shows one policy-bound table to one caller (12 §3). A local table reads its
 * slice file; an `inline` binding's view applies the filter and masks itself: a remote table, which
 * has no file to slice, and an admin's preview of a draft policy, which must leave no slice behind.
 */
export type TableBinding =
  | { kind: 'slice'; key: string; path: string }
  | {
      kind: 'inline';
      key: string;
      filter: string | null;
      masks: readonly MaskedColumn[];
      /** The salt of `hash` masks; null when no column is hashed. */
      salt: string | null;
    };

/** Bindings of the bound tables among `tableIds` (lower-case ids); unbound tables are absent. */
export type BindingResolver = (
  published: PublishedGeneration,
  tableIds: readonly string[],
) => Promise<ReadonlyMap<string, TableBinding>>;

export type ExportFormat = 'csv' | 'ndjson' | 'parquet';

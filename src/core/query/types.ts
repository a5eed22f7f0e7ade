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
}

export type ExportFormat = 'csv' | 'ndjson' | 'parquet';

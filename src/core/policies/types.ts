/** Shapes of row and column policies shared by evaluation, storage, enforcement and the API (12). */

export type MaskKind = 'null' | 'hash';

export interface MaskedColumn {
  column: string;
  mask: MaskKind;
}

export interface AppliesTo {
  everyone: boolean;
  /** User ids. */
  users: string[];
  /** Group ids. */
  groups: string[];
}

/** A stored policy (`RowPolicy` of 12 §4). */
export interface RowPolicy {
  id: string;
  table_id: string;
  name: string;
  description: string;
  applies_to: AppliesTo;
  row_filter: string | null;
  masked_columns: MaskedColumn[];
  enabled: boolean;
  /** Why the policy no longer binds (12 §2), or null. */
  error: string | null;
  created_by: string | null;
  created_at: string;
  updated_by: string | null;
  updated_at: string;
}

/** Who a policy is bound for: the placeholders' values (12 §2) and the targets' keys (12 §1). */
export interface PolicySubject {
  id: string;
  email: string;
  groups: readonly { id: string; name: string }[];
  /** Stored attributes by key. */
  attributes: Readonly<Record<string, readonly string[]>>;
}

export interface TableColumn {
  name: string;
  /** DuckDB type, as `DESCRIBE` prints it. */
  type: string;
}

/** A policy of the binding that failed to bind for this subject or table (12 §2 fails closed). */
export interface PolicyFailure {
  policy_id: string;
  /** Safe for admins: names a rule, a column or a placeholder, never the filter's literals. */
  reason: string;
}

/**
 * What one non-admin principal sees of one policy-bound table (12 §1 effective view). `full` is
 * never produced for a bound table; it is the answer for an unbound one or an admin.
 */
export interface EffectiveView {
  kind: 'full' | 'slice' | 'empty';
  /** The applicable policies that bound (empty for `empty` and `full`). */
  policies: { id: string; name: string }[];
  /** The OR of the applicable filters with placeholders bound; `FALSE` for `empty`; null for `full`. */
  bound_filter: string | null;
  /** Sorted by column; `null` wins over `hash`. */
  masks: MaskedColumn[];
  failures: PolicyFailure[];
}

export const FULL_VIEW: EffectiveView = Object.freeze({
  kind: 'full',
  policies: [],
  bound_filter: null,
  masks: [],
  failures: [],
}) as EffectiveView;

import { AgnesError } from '../errors.js';
import type { SqlParser } from '../query/sql-parser.js';
import { bindFilter, checkTemplate, combineBound } from './bind.js';
import { invalidPolicy } from './placeholders.js';
import type {
  EffectiveView,
  MaskedColumn,
  PolicyFailure,
  PolicySubject,
  RowPolicy,
  TableColumn,
} from './types.js';

/** The filter language and the combination rules of 12 §1–§2. */

const MASKS: ReadonlySet<string> = new Set(['null', 'hash']);

/** Write-time check of a filter template (12 §2); throws `invalid_policy`. */
export async function validatePolicyFilter(
  parser: SqlParser,
  filter: string,
  columns: readonly TableColumn[],
): Promise<void> {
  await checkTemplate(parser, filter, columns);
}

/**
 * Masks with the table's spelling of each column, sorted by column (plain code-unit order, so the
 * slice key never depends on a locale); throws `invalid_policy`.
 */
function resolveMasks(masks: readonly MaskedColumn[], columns: readonly TableColumn[]): MaskedColumn[] {
  const byLower = new Map(columns.map((column) => [column.name.toLowerCase(), column.name]));
  const seen = new Set<string>();
  const resolved: MaskedColumn[] = [];
  for (const { column, mask } of masks) {
    const name = byLower.get(column.toLowerCase());
    if (name === undefined)
      throw invalidPolicy(`masked column "${column.slice(0, 64)}" is not a column of the table`);
    if (seen.has(name)) throw invalidPolicy(`column "${name}" is masked more than once`);
    if (!MASKS.has(mask)) throw invalidPolicy(`the mask of column "${name}" must be "null" or "hash"`);
    seen.add(name);
    resolved.push({ column: name, mask });
  }
  return resolved.sort(byColumn);
}

const byColumn = (a: MaskedColumn, b: MaskedColumn) =>
  a.column < b.column ? -1 : a.column > b.column ? 1 : 0;

/** Write-time check of masked columns: each a column of the table, each named once; throws `invalid_policy`. */
export function validateMasks(masks: readonly MaskedColumn[], columns: readonly TableColumn[]): void {
  resolveMasks(masks, columns);
}

function applies(policy: RowPolicy, subject: PolicySubject): boolean {
  if (!policy.enabled) return false;
  const target = policy.applies_to;
  return (
    target.everyone ||
    target.users.includes(subject.id) ||
    subject.groups.some((group) => target.groups.includes(group.id))
  );
}

function emptyView(failures: PolicyFailure[]): EffectiveView {
  return { kind: 'empty', policies: [], bound_filter: 'FALSE', masks: [], failures };
}

/** A policy's row filter for the subject and its masks, or why it no longer binds. */
async function bindPolicy(
  parser: SqlParser,
  subject: PolicySubject,
  policy: RowPolicy,
  columns: readonly TableColumn[],
): Promise<{ filter: string | null; masks: MaskedColumn[] }> {
  const masks = resolveMasks(policy.masked_columns, columns);
  const filter =
    policy.row_filter === null ? null : await bindFilter(parser, policy.row_filter, columns, subject);
  return { filter, masks };
}

/** The safe reason of an `invalid_policy` refusal; any other error is not the policy's and propagates. */
function refusalReason(error: unknown): string {
  if (error instanceof AgnesError && error.code === 'invalid_policy') return error.detail;
  throw error;
}

/** The effective view of one bound table for one non-admin subject (12 §1). */
export async function evaluatePolicies(
  parser: SqlParser,
  subject: PolicySubject,
  policies: readonly RowPolicy[],
  columns: readonly TableColumn[],
): Promise<EffectiveView> {
  // Ordered by id so that one binding always yields one text, whatever order storage returns.
  const applicable = policies
    .filter((policy) => applies(policy, subject))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  if (applicable.length === 0) return emptyView([]);
  const filters: string[] = [];
  let allRows = false;
  const masks = new Map<string, MaskedColumn>();
  const failures: PolicyFailure[] = [];
  for (const policy of applicable) {
    try {
      const bound = await bindPolicy(parser, subject, policy, columns);
      if (bound.filter === null) allRows = true;
      else if (!filters.includes(bound.filter)) filters.push(bound.filter);
      // Columns combine restrictively: masked if any policy masks it, and `null` wins over `hash`.
      for (const mask of bound.masks)
        if (masks.get(mask.column)?.mask !== 'null') masks.set(mask.column, mask);
    } catch (error) {
      failures.push({ policy_id: policy.id, reason: refusalReason(error) });
    }
  }
  // Any failure empties the view, not only the failure of every policy: dropping a failed policy
  // would also drop its masks, and since columns combine restrictively the reader would then see
  // values (in the other policies' rows) that the intended view hides. Rows alone could be
  // narrowed safely, masks cannot, so the whole view fails closed (12 §2) until the policy binds.
  if (failures.length > 0) return emptyView(failures);
  let boundFilter = 'TRUE';
  if (!allRows) {
    try {
      boundFilter = await combineBound(parser, filters, columns);
    } catch (error) {
      const reason = refusalReason(error);
      return emptyView(applicable.map((policy) => ({ policy_id: policy.id, reason })));
    }
  }
  return {
    kind: 'slice',
    policies: applicable.map((policy) => ({ id: policy.id, name: policy.name })),
    bound_filter: boundFilter,
    masks: [...masks.values()].sort(byColumn),
    failures: [],
  };
}

import type { SqlParser } from '../query/sql-parser.js';
import type { EffectiveView, MaskedColumn, PolicySubject, RowPolicy, TableColumn } from './types.js';

/**
 * The filter language and the combination rules of 12 §1–§2. Signatures fixed for the helpers
 * building both sides; the bodies are being built now.
 */

/** Write-time check of a filter template (12 §2); throws `invalid_policy`. */
export async function validatePolicyFilter(
  _parser: SqlParser,
  _filter: string,
  _columns: readonly TableColumn[],
): Promise<void> {
  throw new Error('validatePolicyFilter: being built');
}

/** Write-time check of masked columns: each a column of the table, each named once; throws `invalid_policy`. */
export function validateMasks(_masks: readonly MaskedColumn[], _columns: readonly TableColumn[]): void {
  throw new Error('validateMasks: being built');
}

/** The effective view of one bound table for one non-admin subject (12 §1). */
export async function evaluatePolicies(
  _parser: SqlParser,
  _subject: PolicySubject,
  _policies: readonly RowPolicy[],
  _columns: readonly TableColumn[],
): Promise<EffectiveView> {
  throw new Error('evaluatePolicies: being built');
}

import type { AlertCondition, QueryResult } from '../../contract/index.js';
import { compare } from './condition.js';
import { renderMessage } from './template.js';

/** The rows an evaluation reads: one more than the 10,000 a row count can tell apart (08 §7). */
export const ALERT_ROW_LIMIT = 10_001;

export interface AlertDefinition {
  name: string;
  condition: AlertCondition;
  message_template: string;
}

export type Evaluation =
  | { ok: true; fired: boolean; row_count: number; value: unknown; message: string }
  | { ok: false; error: string };

/** The column a `first_value` condition reads: the named one, else the first. */
function columnIndex(result: QueryResult, column: string | undefined): number | null {
  if (column === undefined) return result.columns.length > 0 ? 0 : null;
  const index = result.columns.indexOf(column);
  return index >= 0 ? index : null;
}

/**
 * Judges a query result against an alert's condition and renders its message (08 §7). Pure: the
 * query has already run through the guard with the owner's rights.
 */
export function evaluateResult(alert: AlertDefinition, result: QueryResult): Evaluation {
  const { condition } = alert;
  const rowCount = Math.min(result.rows.length, ALERT_ROW_LIMIT);
  const first = result.rows[0];
  const firstRow = new Map<string, unknown>(result.columns.map((name, i) => [name, first?.[i] ?? null]));
  let value: unknown;
  let fired: boolean;
  if (condition.type === 'row_count') {
    value = rowCount;
    const outcome = compare(rowCount, 'BIGINT', condition.op, condition.threshold);
    if ('error' in outcome) return { ok: false, error: outcome.error };
    fired = outcome.holds;
  } else {
    const index = columnIndex(result, condition.column);
    if (index === null) return { ok: false, error: 'the query has no column named in the condition' };
    value = first === undefined ? null : (first[index] ?? null);
    const outcome = compare(value, result.column_types[index] ?? '', condition.op, condition.threshold);
    if ('error' in outcome) return { ok: false, error: outcome.error };
    fired = outcome.holds;
  }
  const message = renderMessage(alert.message_template, {
    alert_name: alert.name,
    row_count: rowCount,
    value,
    firstRow,
  });
  return { ok: true, fired, row_count: rowCount, value, message };
}

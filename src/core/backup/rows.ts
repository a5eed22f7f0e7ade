import { JSON_COLUMNS } from '../state/column-values.js';

/**
 * Row values in the snapshot's portable form (02 §5). Kysely's dialect plugin already gives
 * booleans and parsed JSON; a dialect with native timestamps returns `Date`, written as ISO `Z`.
 */
export function portableRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row))
    out[key] = value instanceof Date ? value.toISOString() : value;
  return out;
}

/**
 * A snapshot row as repositories write it: JSON columns as serialised text (SQL NULL stays NULL);
 * booleans and ISO timestamps are bound as they are and the dialect converts them.
 */
export function storeRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row))
    out[key] = JSON_COLUMNS.has(key) && value !== null ? JSON.stringify(value) : value;
  return out;
}

/** One ndjson line → its row; null when the line is not a JSON object. */
export function parseRow(line: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

import { ERROR_STATUS, isAgnesError } from '../errors.js';

/**
 * Refused tool calls (14 §1): a result with `isError: true`, text `<code>: <detail>` and the same
 * codes as the HTTP API. Tables the caller may not see are refused exactly like a typo, in every
 * tool, so no answer tells a hidden table from a missing one.
 */
export interface Refusal {
  code: string;
  detail: string;
  /** The HTTP status the same refusal has in the API; the audit entry's result follows it. */
  status: number;
}

/** A refusal raised by a front end that does not work with `AgnesError` (`da mcp`'s HTTP calls). */
export class ToolRefusalError extends Error {
  constructor(
    readonly code: string,
    readonly detail: string,
    readonly status: number,
  ) {
    super(detail);
    this.name = 'ToolRefusalError';
  }
}

export const unknownTable = (table: string): Refusal => ({
  code: 'unknown_table',
  detail: `table ${table} does not exist`,
  status: ERROR_STATUS.unknown_table,
});

export const tableForbidden = (table: string): Refusal => ({
  code: 'table_forbidden',
  detail: `you do not have read access to table ${table}`,
  status: ERROR_STATUS.table_forbidden,
});

export const unknownTool = (name: string): Refusal => ({
  code: 'unknown_tool',
  detail: `no tool named ${name.slice(0, 100)}`,
  status: 404,
});

/**
 * The refusal an error stands for, or null for an unexpected error (a bug, never shown). `table`
 * names the table a table tool was asked about: "not found" about it becomes `unknown_table`.
 */
export function refusalOf(error: unknown, table?: string): Refusal | null {
  let refusal: Refusal;
  if (error instanceof ToolRefusalError)
    refusal = { code: error.code, detail: error.detail, status: error.status };
  else if (isAgnesError(error)) refusal = { code: error.code, detail: error.detail, status: error.status };
  else return null;
  if (table === undefined) return refusal;
  if (refusal.code === 'not_found' || refusal.code === 'unknown_table') return unknownTable(table);
  if (refusal.code === 'table_forbidden') return tableForbidden(table);
  return refusal;
}

import {
  ALLOWED_FUNCTIONS,
  ALLOWED_TABLE_FUNCTIONS,
  FUNCTIONS_NAMING_AN_AGGREGATE,
} from './function-allowlist.js';

/**
 * Which functions a query may call (05 §3 tree walk rules): table functions and every other call are both
 * allow-listed (`function-allowlist.ts`); a name nobody reviewed is refused.
 */

export function isAllowedFunction(name: string): boolean {
  return ALLOWED_FUNCTIONS.has(name.toLowerCase());
}

export function isAllowedTableFunction(name: string): boolean {
  return ALLOWED_TABLE_FUNCTIONS.has(name.toLowerCase());
}

/** `list_aggr(l, 'sum')` and its aliases: the second argument names the function to run. */
export function namesAFunctionInAString(name: string): boolean {
  return FUNCTIONS_NAMING_AN_AGGREGATE.has(name.toLowerCase());
}

import type { AlertCondition, AlertOperator } from '../../contract/index.js';

/**
 * The comparison of an alert's condition (08 §7, §9): numbers compare numerically and exactly,
 * DECIMAL and HUGEINT included (they arrive as decimal strings, 05 §6), anything else compares
 * as text with `==` and `!=` only. Pure.
 */

/** A number as sign, integer digits and fraction digits, without redundant zeros. */
interface Decimal {
  negative: boolean;
  integer: string;
  fraction: string;
}

const DECIMAL_TEXT = /^([+-]?)(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Parses a decimal or exponent notation exactly; null for anything else (NaN, Infinity, text). */
export function parseDecimal(text: string): Decimal | null {
  const match = DECIMAL_TEXT.exec(text.trim());
  if (!match) return null;
  const [, sign, whole = '', part = '', exponentText] = match;
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 10_000) return null;
  const digits = whole + part;
  const point = whole.length + exponent;
  const padded = point < 0 ? '0'.repeat(-point) + digits : digits.padEnd(point, '0');
  const at = Math.max(point, 0);
  const integer = padded.slice(0, at).replace(/^0+/, '');
  const fraction = padded.slice(at).replace(/0+$/, '');
  const zero = integer === '' && fraction === '';
  return { negative: sign === '-' && !zero, integer, fraction };
}

function compareMagnitude(a: Decimal, b: Decimal): number {
  if (a.integer.length !== b.integer.length) return a.integer.length < b.integer.length ? -1 : 1;
  if (a.integer !== b.integer) return a.integer < b.integer ? -1 : 1;
  const width = Math.max(a.fraction.length, b.fraction.length);
  const fa = a.fraction.padEnd(width, '0');
  const fb = b.fraction.padEnd(width, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

/** -1, 0 or 1, exactly, whatever the size or scale of either side. */
export function compareDecimals(a: Decimal, b: Decimal): number {
  if (a.negative !== b.negative) return a.negative ? -1 : 1;
  const magnitude = compareMagnitude(a, b);
  return a.negative ? -magnitude : magnitude;
}

/** DuckDB types whose values are numbers, whether encoded as JSON numbers or decimal strings. */
const NUMERIC_TYPE =
  /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL(\(\d+,\s*\d+\))?|INT\d*|REAL|NUMERIC)$/i;

function isNumericType(columnType: string): boolean {
  return NUMERIC_TYPE.test(columnType.trim());
}

/** A result cell as a number, when its column is numeric and the value is finite. */
function numericValue(value: unknown, columnType: string): Decimal | null {
  if (typeof value === 'number') return Number.isFinite(value) ? parseDecimal(String(value)) : null;
  if (typeof value === 'string' && isNumericType(columnType)) return parseDecimal(value);
  return null;
}

const ORDERED: Record<AlertOperator, (order: number) => boolean> = {
  '>': (o) => o > 0,
  '>=': (o) => o >= 0,
  '<': (o) => o < 0,
  '<=': (o) => o <= 0,
  '==': (o) => o === 0,
  '!=': (o) => o !== 0,
};

/** Whether a condition compares text, which allows only `==` and `!=` (08 §9). */
export function isTextCondition(condition: Pick<AlertCondition, 'threshold'>): boolean {
  return typeof condition.threshold === 'string';
}

export const TEXT_OPERATORS: readonly AlertOperator[] = ['==', '!='];

export type Comparison = { holds: boolean } | { error: string };

/** The text form of a cell for a text comparison: strings as they are, other values as JSON. */
function cellText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Compares a value of a column of type `columnType` with the threshold. NULL never holds; a text
 * comparison with an ordering operator is an error the owner can fix, not a silent "no".
 */
export function compare(
  value: unknown,
  columnType: string,
  op: AlertOperator,
  threshold: number | string,
): Comparison {
  if (value === null || value === undefined) return { holds: false };
  const left = numericValue(value, columnType);
  const right = typeof threshold === 'number' ? parseDecimal(String(threshold)) : null;
  if (left && right) return { holds: ORDERED[op](compareDecimals(left, right)) };
  if (!TEXT_OPERATORS.includes(op))
    return { error: `the value is not a number, so it can only be compared with == or !=` };
  const equal = cellText(value) === String(threshold);
  return { holds: op === '==' ? equal : !equal };
}

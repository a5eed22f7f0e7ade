import { toNumber } from '../duckdb/engine.js';

/** Output formatting: statistics stay unrounded while computed and are rounded only here. */

function roundTo(value: number, digits: number): number {
  // `+ 0` turns -0 into 0 so a tiny negative mean does not print as "-0".
  return Number.parseFloat(value.toFixed(digits)) + 0;
}

/** Rounds to 2 decimals; NaN, ±Infinity and missing values become null (JSON has no NaN). */
export function round2(value: unknown): number | null {
  const n = toNumber(value);
  return n === null || !Number.isFinite(n) ? null : roundTo(n, 2);
}

export function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** A count as a plain number (DuckDB counts arrive as bigint). */
export function count(value: unknown): number {
  return toNumber(value) ?? 0;
}

/** `part` as a percentage of `whole`, rounded; 0 when `whole` is 0 (an empty table). */
export function pct(part: number, whole: number): number {
  return whole > 0 ? roundTo((part / whole) * 100, 2) : 0;
}

const SCALES = [
  { size: 1e9, suffix: 'B', digits: 1 },
  { size: 1e6, suffix: 'M', digits: 1 },
  { size: 1e3, suffix: 'K', digits: 1 },
  { size: 1, suffix: '', digits: 2 },
] as const;

/** Compact labels: `1.2K`, `3.4M`, `5.6B`; below a thousand the 2-decimal value. */
export function compactNumber(value: number): string {
  const abs = Math.abs(value);
  let index = SCALES.findIndex((scale) => abs >= scale.size);
  if (index === -1) index = SCALES.length - 1;
  let scale = SCALES[index]!;
  let scaled = roundTo(abs / scale.size, scale.digits);
  // 999,960 rounds to "1000K"; the next unit up says it better as "1M".
  if (scaled >= 1000 && index > 0) {
    scale = SCALES[index - 1]!;
    scaled = roundTo(abs / scale.size, scale.digits);
  }
  const sign = value < 0 && scaled !== 0 ? '-' : '';
  return `${sign}${scaled}${scale.suffix}`;
}

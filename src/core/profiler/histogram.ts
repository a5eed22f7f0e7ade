import type { DateGranularity, DateHistogram, NumericHistogram } from '../../contract/index.js';
import { quoteLiteral } from '../duckdb/sql.js';
import { compactNumber, round2 } from './format.js';

/**
 * Histogram bucketing. Buckets are computed in SQL as integer indexes (so one `histogram()`
 * aggregate per column counts them in a single pass); edges and labels are rebuilt here.
 */

export interface NumericBins {
  min: number;
  max: number;
  width: number;
  bins: number;
}

/** Equal-width bins between the unrounded min and max; none when there is no spread. */
export function numericBins(min: number | null, max: number | null, bins: number): NumericBins | null {
  if (min === null || max === null || !(max > min)) return null;
  // Dividing first keeps the width finite even when max − min overflows a double.
  return { min, max, width: max / bins - min / bins, bins };
}

function doubleLiteral(value: number): string {
  return `CAST(${quoteLiteral(String(value))} AS DOUBLE)`;
}

/**
 * Bin index of a DOUBLE expression that is finite or NULL. `least` closes the last bin so the max
 * lands in it; it also skips NULLs, so a NULL value is kept NULL explicitly (and left uncounted).
 */
export function numericBinSql(valueSql: string, bins: NumericBins): string {
  const offset = `(${valueSql} - ${doubleLiteral(bins.min)}) / ${doubleLiteral(bins.width)}`;
  return `CASE WHEN ${valueSql} IS NOT NULL THEN CAST(least(floor(${offset}), ${bins.bins - 1}) AS INTEGER) END`;
}

export function numericHistogram(bins: NumericBins, counts: Map<number, number>): NumericHistogram {
  const edges = Array.from({ length: bins.bins + 1 }, (_, i) =>
    i === bins.bins ? bins.max : bins.min + i * bins.width,
  );
  const labels = edges
    .slice(0, -1)
    .map((edge, i) => `${compactNumber(edge)}–${compactNumber(edges[i + 1] ?? bins.max)}`);
  return {
    edges: edges.map((edge) => round2(edge) ?? 0),
    labels,
    counts: Array.from({ length: bins.bins }, (_, i) => counts.get(i) ?? 0),
  };
}

const DAY_MAX_SPAN_DAYS = 62;
/** Three calendar years, leap day included. */
const MONTH_MAX_SPAN_DAYS = 3 * 365 + 1;

export function dateGranularity(spanDays: number): DateGranularity {
  if (spanDays <= DAY_MAX_SPAN_DAYS) return 'day';
  if (spanDays <= MONTH_MAX_SPAN_DAYS) return 'month';
  return 'year';
}

interface CalendarDay {
  year: number;
  month: number;
  day: number;
}

/** Parses DuckDB's `YYYY-MM-DD` rendering of a DATE. */
function parseDay(text: string): CalendarDay {
  const match = /^(-?\d+)-(\d{2})-(\d{2})/.exec(text);
  if (!match) throw new Error(`unexpected date "${text}"`);
  return { year: Number(match[1]), month: Number(match[2]), day: Number(match[3]) };
}

/** Bucket index of a DATE/TIMESTAMP expression relative to the earliest value (`YYYY-MM-DD`). */
export function dateBucketSql(valueSql: string, granularity: DateGranularity, earliest: string): string {
  const start = parseDay(earliest);
  if (granularity === 'day') return `(CAST(${valueSql} AS DATE) - DATE ${quoteLiteral(earliest)})`;
  if (granularity === 'month')
    return `((year(${valueSql}) - ${start.year}) * 12 + month(${valueSql}) - ${start.month})`;
  return `(year(${valueSql}) - ${start.year})`;
}

const pad = (value: number, width: number) => String(value).padStart(width, '0');

function bucketLabel(start: CalendarDay, granularity: DateGranularity, index: number): string {
  if (granularity === 'year') return pad(start.year + index, 4);
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0–99 as 1900–1999.
  if (granularity === 'month') date.setUTCFullYear(start.year, start.month - 1 + index, 1);
  else date.setUTCFullYear(start.year, start.month - 1, start.day + index);
  const month = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}`;
  return granularity === 'month' ? month : `${month}-${pad(date.getUTCDate(), 2)}`;
}

function bucketCount(start: CalendarDay, end: CalendarDay, granularity: DateGranularity, spanDays: number) {
  if (granularity === 'day') return spanDays + 1;
  if (granularity === 'month') return (end.year - start.year) * 12 + end.month - start.month + 1;
  return end.year - start.year + 1;
}

/** Every bucket from the earliest to the latest value, empty ones included, like numeric bins. */
export function dateHistogram(
  granularity: DateGranularity,
  earliest: string,
  latest: string,
  spanDays: number,
  counts: Map<number, number>,
): DateHistogram {
  const start = parseDay(earliest);
  const length = bucketCount(start, parseDay(latest), granularity, spanDays);
  return {
    granularity,
    labels: Array.from({ length }, (_, i) => bucketLabel(start, granularity, i)),
    counts: Array.from({ length }, (_, i) => counts.get(i) ?? 0),
  };
}

import type { ColumnProfile, TopValue } from '../../contract/index.js';
import type { InstanceConfig } from '../config/index.js';
import { toNumber } from '../duckdb/engine.js';
import { count, pct, round2, stringOrNull } from './format.js';
import { dateHistogram, numericHistogram } from './histogram.js';
import type { ColumnPlans } from './passes.js';
import { quantileValues } from './quantiles.js';
import { type ColumnPlan, type ResultRow, stat } from './sql.js';

/** Turns the statistics of all passes (one merged result row) into column objects. */

type Options = InstanceConfig['profiler'];
/** A column object before its alerts are known (Omit distributed over the category union). */
export type ColumnFacts = ColumnProfile extends infer C
  ? C extends unknown
    ? Omit<C, 'alerts'>
    : never
  : never;

/** `histogram()` results arrive as `[{key, value}]`; bucket keys may be bigint. */
function histogramEntries(value: unknown): [unknown, number][] {
  const entries = Array.isArray(value) ? (value as { key: unknown; value: unknown }[]) : [];
  return entries.map((entry) => [entry.key, count(entry.value)]);
}

function topValues(counts: [unknown, number][], rows: number, limit: number): TopValue[] {
  return counts
    .map(([value, n]) => ({ value: String(value), count: n }))
    .sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0))
    .slice(0, limit)
    .map((top) => ({ ...top, pct: pct(top.count, rows) }));
}

export function columnProfile(
  c: ColumnPlan,
  results: ResultRow,
  context: { rows: number; isPrimaryKey: boolean; options: Options; plans: ColumnPlans },
): ColumnFacts {
  const { rows, options, plans } = context;
  const present = count(stat(results, c, 'present'));
  const counts = histogramEntries(stat(results, c, 'histogram'));
  const buckets = new Map(counts.map(([key, n]) => [count(key), n]));
  const number = (name: string) => round2(stat(results, c, name));
  const samples = stat(results, c, 'samples');
  const common = (distinct: number) => ({
    name: c.name,
    type: c.type,
    completeness_pct: pct(present, rows),
    null_count: rows - present,
    unique_count: distinct,
    unique_pct: pct(distinct, present),
    sample_values: Array.isArray(samples) ? samples.map(String) : [],
    is_primary_key: context.isPrimaryKey,
  });

  if (c.category === 'NUMERIC') {
    const values = stat(results, c, 'quantiles');
    const quantiles = quantileValues(
      count(stat(results, c, 'finite')),
      plans.ranks,
      Array.isArray(values) ? values.map((v) => toNumber(v) ?? Number.NaN) : [],
    );
    const zeros = count(stat(results, c, 'zeros'));
    const negative = count(stat(results, c, 'negative'));
    return {
      ...common(count(stat(results, c, 'distinct')) + count(stat(results, c, 'nonfinite'))),
      type_category: 'NUMERIC',
      min: number('min'),
      max: number('max'),
      mean: number('mean'),
      median: round2(quantiles.median),
      stddev: number('stddev'),
      p5: round2(quantiles.p5),
      p25: round2(quantiles.p25),
      p75: round2(quantiles.p75),
      p95: round2(quantiles.p95),
      zeros,
      zeros_pct: pct(zeros, rows),
      negative,
      negative_pct: pct(negative, rows),
      ...(plans.distribution?.kind === 'numeric' && {
        histogram: numericHistogram(plans.distribution.bins, buckets),
      }),
    };
  }

  const distinct = count(stat(results, c, 'distinct'));
  if (c.category === 'STRING') {
    const isCategorical = distinct <= options.max_categorical_distinct;
    return {
      ...common(distinct),
      type_category: 'STRING',
      min_length: toNumber(stat(results, c, 'min_length')),
      max_length: toNumber(stat(results, c, 'max_length')),
      avg_length: number('avg_length'),
      is_categorical: isCategorical,
      ...(isCategorical && { top_values: topValues(counts, rows, options.top_values_limit) }),
    };
  }
  if (c.category === 'BOOLEAN') {
    const trueCount = count(stat(results, c, 'true'));
    return {
      ...common(distinct),
      type_category: 'BOOLEAN',
      true_count: trueCount,
      false_count: count(stat(results, c, 'false')),
      true_pct: pct(trueCount, present),
    };
  }
  const latest = stringOrNull(stat(results, c, 'latest'));
  const span = toNumber(stat(results, c, 'span_days'));
  const date = plans.distribution?.kind === 'date' ? plans.distribution : null;
  return {
    ...common(distinct),
    type_category: c.category,
    earliest: stringOrNull(stat(results, c, 'earliest')),
    latest,
    span_days: span,
    ...(date &&
      latest !== null &&
      span !== null && { histogram: dateHistogram(date.granularity, date.earliest, latest, span, buckets) }),
  };
}

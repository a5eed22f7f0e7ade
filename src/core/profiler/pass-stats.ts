import { isFloatingType } from './categories.js';
import {
  alias,
  type ColumnPlan,
  finite,
  fromProjected,
  raw,
  sampleValuesSql,
  temporal,
  text,
} from './sql.js';

/**
 * Pass 1: one aggregate SELECT over all columns. Non-numeric columns get their exact distinct
 * counts and smallest values here by hashing; numeric ones get theirs from their sorted pass
 * (pass-ordered.ts), which also yields exact quantiles.
 */

function numericAggregates(c: ColumnPlan): [string, string][] {
  const f = finite(c);
  const out: [string, string][] = [
    [`count(${f})`, 'finite'],
    [`min(${f})`, 'min'],
    [`max(${f})`, 'max'],
    [`avg(${f})`, 'mean'],
    [`stddev_samp(${f})`, 'stddev'],
    [`count_if(${f} = 0)`, 'zeros'],
    [`count_if(${f} < 0)`, 'negative'],
  ];
  if (isFloatingType(c.type)) {
    // NaN, Infinity and -Infinity are values too: up to three distinct ones beside the finite values.
    const r = raw(c);
    const seen = [`isnan(${r})`, `${r} = 'Infinity'`, `${r} = '-Infinity'`].map(
      (test) => `CAST(count_if(${test}) > 0 AS INTEGER)`,
    );
    out.push([seen.join(' + '), 'nonfinite']);
  }
  return out;
}

/**
 * Strings are counted as the text they are profiled as. Sample values, like the numeric ones, leave
 * out infinite dates, which are counted as distinct values all the same.
 */
function hashedAggregates(c: ColumnPlan, sampleValues: number): [string, string][] {
  const key = c.category === 'STRING' ? text(c) : raw(c);
  const sampleKey = c.category === 'DATE' || c.category === 'TIMESTAMP' ? temporal(c) : key;
  return [
    [`count(DISTINCT ${key})`, 'distinct'],
    [sampleValuesSql(`DISTINCT ${sampleKey}`, sampleValues), 'samples'],
  ];
}

function categoryAggregates(c: ColumnPlan): [string, string][] {
  if (c.category === 'STRING') {
    const s = text(c);
    return [
      [`min(length(${s}))`, 'min_length'],
      [`max(length(${s}))`, 'max_length'],
      [`avg(length(${s}))`, 'avg_length'],
    ];
  }
  if (c.category === 'BOOLEAN') {
    return [
      [`count_if(${raw(c)})`, 'true'],
      [`count_if(NOT ${raw(c)})`, 'false'],
    ];
  }
  const t = temporal(c);
  return [
    [`CAST(CAST(min(${t}) AS DATE) AS VARCHAR)`, 'earliest'],
    [`CAST(CAST(max(${t}) AS DATE) AS VARCHAR)`, 'latest'],
    [`CAST(max(${t}) AS DATE) - CAST(min(${t}) AS DATE)`, 'span_days'],
  ];
}

function columnAggregates(c: ColumnPlan, sampleValues: number): string[] {
  const aggregates: [string, string][] = [[`count(${raw(c)})`, 'present']];
  if (c.category === 'NUMERIC') aggregates.push(...numericAggregates(c));
  else aggregates.push(...hashedAggregates(c, sampleValues), ...categoryAggregates(c));
  return aggregates.map(([sql, stat]) => `${sql} AS ${alias(c, stat)}`);
}

/** Distinct complete keys; a key with a NULL part identifies nothing and counts as a duplicate. */
function keyAggregate(keyColumns: ColumnPlan[]): string {
  const parts = keyColumns.map(raw);
  const complete = parts.map((p) => `${p} IS NOT NULL`).join(' AND ');
  return `count(DISTINCT CASE WHEN ${complete} THEN row(${parts.join(', ')}) END) AS key_distinct`;
}

export function statsSql(
  columns: ColumnPlan[],
  source: string,
  options: { sampleValues: number; compositeKey: ColumnPlan[] | null },
): string {
  const aggregates = [
    'count(*) AS profiled_rows',
    ...columns.flatMap((c) => columnAggregates(c, options.sampleValues)),
  ];
  if (options.compositeKey) aggregates.push(keyAggregate(options.compositeKey));
  return `SELECT ${aggregates.join(', ')} ${fromProjected(columns, source)}`;
}

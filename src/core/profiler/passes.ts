import type { DuckDBConnection } from '@duckdb/node-api';
import type { InstanceConfig } from '../config/index.js';
import { queryOne, toNumber } from '../duckdb/engine.js';
import { count, stringOrNull } from './format.js';
import { dateGranularity, numericBins } from './histogram.js';
import { type Distribution, distributionsSql } from './pass-distributions.js';
import { orderedSql } from './pass-ordered.js';
import { statsSql } from './pass-stats.js';
import { quantileRanks } from './quantiles.js';
import { type ColumnPlan, type ResultRow, stat } from './sql.js';

type Options = InstanceConfig['profiler'];

export interface ColumnPlans {
  /** The 1-based ranks a numeric column's sorted pass reads for the quantiles. */
  ranks: number[];
  distribution: Distribution | null;
}

/** What pass 3 must count for a column, decided from its pass-1 statistics. */
function distributionFor(c: ColumnPlan, stats: ResultRow, options: Options): Distribution | null {
  if (c.category === 'NUMERIC') {
    const bins = numericBins(
      toNumber(stat(stats, c, 'min')),
      toNumber(stat(stats, c, 'max')),
      options.histogram_bins,
    );
    return bins && { kind: 'numeric', column: c, bins };
  }
  if (c.category === 'DATE' || c.category === 'TIMESTAMP') {
    const earliest = stringOrNull(stat(stats, c, 'earliest'));
    const span = toNumber(stat(stats, c, 'span_days'));
    if (earliest === null || span === null) return null;
    return { kind: 'date', column: c, granularity: dateGranularity(span), earliest };
  }
  const distinct = count(stat(stats, c, 'distinct'));
  const categorical = c.category === 'STRING' && distinct > 0 && distinct <= options.max_categorical_distinct;
  return categorical ? { kind: 'values', column: c } : null;
}

export interface PassResults {
  /** Every statistic of every pass, named `c<i>_<stat>`, plus `profiled_rows` and `key_distinct`. */
  results: ResultRow;
  plans: Map<ColumnPlan, ColumnPlans>;
}

/**
 * Runs the passes over `source`: pass 1 aggregates all columns (pass-stats.ts); pass 2 sorts each
 * numeric column, reading that column only (pass-ordered.ts); pass 3 counts histograms and
 * categorical values (pass-distributions.ts), with bins and categories decided from pass 1.
 */
export async function runPasses(
  conn: DuckDBConnection,
  columns: ColumnPlan[],
  source: string,
  options: Options & { compositeKey: ColumnPlan[] | null },
): Promise<PassResults> {
  const sampleValues = options.sample_values_limit;
  const stats = await queryOne(
    conn,
    statsSql(columns, source, { sampleValues, compositeKey: options.compositeKey }),
  );
  const results: ResultRow = { ...stats };

  const plans = new Map<ColumnPlan, ColumnPlans>();
  for (const c of columns) {
    plans.set(c, {
      ranks: c.category === 'NUMERIC' ? quantileRanks(count(stat(results, c, 'finite'))) : [],
      distribution: distributionFor(c, results, options),
    });
  }
  for (const [c, plan] of plans) {
    if (plan.ranks.length > 0) {
      Object.assign(
        results,
        await queryOne(conn, orderedSql(c, source, { ranks: plan.ranks, sampleValues })),
      );
    }
  }
  const distributions = [...plans.values()].flatMap((plan) => (plan.distribution ? [plan.distribution] : []));
  if (distributions.length > 0) {
    Object.assign(results, await queryOne(conn, distributionsSql(distributions, source)));
  }
  return { results, plans };
}

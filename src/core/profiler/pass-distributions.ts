import type { DateGranularity } from '../../contract/index.js';
import { dateBucketSql, type NumericBins, numericBinSql } from './histogram.js';
import { alias, type ColumnPlan, finite, fromProjected, temporal, text } from './sql.js';

/** What pass 3 counts for a column: histogram buckets, or the values of a categorical string. */
export type Distribution =
  | { kind: 'numeric'; column: ColumnPlan; bins: NumericBins }
  | { kind: 'date'; column: ColumnPlan; granularity: DateGranularity; earliest: string }
  | { kind: 'values'; column: ColumnPlan };

function countedValue(d: Distribution): string {
  if (d.kind === 'numeric') return numericBinSql(finite(d.column), d.bins);
  if (d.kind === 'date') return dateBucketSql(temporal(d.column), d.granularity, d.earliest);
  return text(d.column);
}

/**
 * Pass 3: every histogram and categorical value count in one SELECT, one `histogram()` aggregate
 * per column over integer bucket indexes (or the values themselves).
 */
export function distributionsSql(distributions: Distribution[], source: string): string {
  const columns = distributions.map((d) => d.column);
  const aggregates = distributions.map(
    (d) => `histogram(${countedValue(d)}) AS ${alias(d.column, 'histogram')}`,
  );
  return `SELECT ${aggregates.join(', ')} ${fromProjected(columns, source)}`;
}

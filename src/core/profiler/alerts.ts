import type { Alert, AlertCode } from '../../contract/index.js';
import type { InstanceConfig } from '../config/index.js';
import type { ColumnFacts } from './column-profile.js';
import { pct } from './format.js';

export type AlertThresholds = Pick<
  InstanceConfig['profiler'],
  | 'alert_high_missing_pct'
  | 'alert_missing_pct'
  | 'alert_imbalance_pct'
  | 'alert_high_cardinality'
  | 'alert_zeros_pct'
>;

/**
 * The alerts of one column, in the order of 02 §7. Percentages are compared as rounded for output,
 * so an alert always agrees with the figure shown next to it.
 */
export function columnAlerts(
  column: ColumnFacts,
  profiledRows: number,
  thresholds: AlertThresholds,
): Alert[] {
  const name = column.name;
  const alerts: Alert[] = [];
  const add = (type: AlertCode, message: string) => alerts.push({ column: name, type, message });

  const present = profiledRows - column.null_count;
  if (column.unique_count === 1) add('constant', `${name} has a single value`);
  if (column.unique_count > 1 && column.unique_count === present) {
    add('unique', `${name} has all unique values`);
  }

  const missing = pct(column.null_count, profiledRows);
  if (missing > thresholds.alert_high_missing_pct) {
    add('high_missing', `${name} has ${missing}% missing values`);
  } else if (missing > thresholds.alert_missing_pct) {
    add('missing', `${name} has ${missing}% missing values`);
  }

  if (column.type_category === 'NUMERIC' && column.zeros_pct > thresholds.alert_zeros_pct) {
    add('zeros', `${name} has ${column.zeros_pct}% zeros`);
  }
  if (column.type_category === 'STRING') {
    const top = column.top_values?.[0];
    if (column.is_categorical && top && top.pct > thresholds.alert_imbalance_pct) {
      add('imbalance', `${name} is imbalanced: "${top.value}" is ${top.pct}% of rows`);
    }
    if (!column.is_categorical && column.unique_count > thresholds.alert_high_cardinality) {
      add('high_cardinality', `${name} has high cardinality: ${column.unique_count} distinct values`);
    }
  }
  return alerts;
}

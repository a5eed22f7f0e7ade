import { type Static, type TProperties, Type } from '@sinclair/typebox';
import { NullableString, Timestamp } from './common.js';

/**
 * The table profile (02-data-contracts.md §7): stored in `table_profiles.profile` as the profiler
 * wrote it, and served per reader by `GET /api/catalog/profile/{table_id}`.
 */

const Int = Type.Integer({ minimum: 0 });
const Pct = Type.Number({ minimum: 0, maximum: 100 });
const NullableNumber = Type.Union([Type.Number(), Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const strict = <T extends TProperties>(properties: T) =>
  Type.Object(properties, { additionalProperties: false });

const TYPE_CATEGORIES = ['NUMERIC', 'STRING', 'DATE', 'TIMESTAMP', 'BOOLEAN'] as const;
export type TypeCategory = (typeof TYPE_CATEGORIES)[number];

const ALERT_CODES = [
  'constant',
  'unique',
  'high_missing',
  'missing',
  'zeros',
  'imbalance',
  'high_cardinality',
] as const;
export type AlertCode = (typeof ALERT_CODES)[number];
const AlertCodeSchema = Type.Union(ALERT_CODES.map((code) => Type.Literal(code)));

const DATE_GRANULARITIES = ['day', 'month', 'year'] as const;
export type DateGranularity = (typeof DATE_GRANULARITIES)[number];

const NumericHistogramSchema = strict({
  edges: Type.Array(Type.Number()),
  labels: Type.Array(Type.String()),
  counts: Type.Array(Int),
});
export type NumericHistogram = Static<typeof NumericHistogramSchema>;

const DateHistogramSchema = strict({
  granularity: Type.Union(DATE_GRANULARITIES.map((g) => Type.Literal(g))),
  labels: Type.Array(Type.String()),
  counts: Type.Array(Int),
});
export type DateHistogram = Static<typeof DateHistogramSchema>;

const TopValueSchema = strict({ value: Type.String(), count: Int, pct: Pct });
export type TopValue = Static<typeof TopValueSchema>;

const common = {
  name: Type.String(),
  type: Type.String(),
  completeness_pct: Pct,
  null_count: Int,
  unique_count: Int,
  unique_pct: Pct,
  sample_values: Type.Array(Type.String()),
  is_primary_key: Type.Boolean(),
  alerts: Type.Array(AlertCodeSchema),
};

const NumericColumnSchema = strict({
  ...common,
  type_category: Type.Literal('NUMERIC'),
  min: NullableNumber,
  max: NullableNumber,
  mean: NullableNumber,
  median: NullableNumber,
  stddev: NullableNumber,
  p5: NullableNumber,
  p25: NullableNumber,
  p75: NullableNumber,
  p95: NullableNumber,
  zeros: Int,
  zeros_pct: Pct,
  negative: Int,
  negative_pct: Pct,
  histogram: Type.Optional(NumericHistogramSchema),
});

const StringColumnSchema = strict({
  ...common,
  type_category: Type.Literal('STRING'),
  min_length: NullableInt,
  max_length: NullableInt,
  avg_length: NullableNumber,
  is_categorical: Type.Boolean(),
  top_values: Type.Optional(Type.Array(TopValueSchema)),
});

const temporal = {
  earliest: NullableString,
  latest: NullableString,
  span_days: NullableInt,
  histogram: Type.Optional(DateHistogramSchema),
};
const DateColumnSchema = strict({ ...common, type_category: Type.Literal('DATE'), ...temporal });
const TimestampColumnSchema = strict({ ...common, type_category: Type.Literal('TIMESTAMP'), ...temporal });

const BooleanColumnSchema = strict({
  ...common,
  type_category: Type.Literal('BOOLEAN'),
  true_count: Int,
  false_count: Int,
  true_pct: Pct,
});

const ColumnProfileSchema = Type.Union([
  NumericColumnSchema,
  StringColumnSchema,
  DateColumnSchema,
  TimestampColumnSchema,
  BooleanColumnSchema,
]);
export type ColumnProfile = Static<typeof ColumnProfileSchema>;

const AlertSchema = strict({ column: Type.String(), type: AlertCodeSchema, message: Type.String() });
export type Alert = Static<typeof AlertSchema>;

const DateRangeSchema = strict({
  column: Type.String(),
  earliest: Type.String(),
  latest: Type.String(),
  span_days: Int,
});
export type DateRange = Static<typeof DateRangeSchema>;

const RelatedTableSchema = strict({
  table: Type.String(),
  join_column: Type.String(),
  foreign_column: Type.String(),
  direction: Type.Union([Type.Literal('belongs_to'), Type.Literal('has_many')]),
});
export type RelatedTable = Static<typeof RelatedTableSchema>;

const MetricUseSchema = strict({ name: Type.String(), file: Type.String() });
export type MetricUse = Static<typeof MetricUseSchema>;

export const ProfileSchema = strict({
  profiler_version: Type.Integer({ minimum: 1 }),
  table_id: Type.String(),
  description: Type.String(),
  sync_strategy: Type.String(),
  primary_key: Type.Array(Type.String()),
  row_count: Int,
  profiled_rows: Int,
  sampled: Type.Boolean(),
  column_count: Int,
  size_bytes: Int,
  file_size_mb: Type.Number({ minimum: 0 }),
  avg_completeness: Pct,
  missing_cells: Int,
  missing_cells_pct: Pct,
  duplicate_rows: Int,
  variable_types: strict({
    NUMERIC: Type.Optional(Int),
    STRING: Type.Optional(Int),
    DATE: Type.Optional(Int),
    TIMESTAMP: Type.Optional(Int),
    BOOLEAN: Type.Optional(Int),
  }),
  date_range: Type.Union([DateRangeSchema, Type.Null()]),
  alerts: Type.Array(AlertSchema),
  last_sync: NullableString,
  source_hash: NullableString,
  related_tables: Type.Array(RelatedTableSchema),
  used_by_metrics: Type.Array(MetricUseSchema),
  columns: Type.Array(ColumnProfileSchema),
  sample_rows: Type.Array(Type.Record(Type.String(), NullableString)),
});
export type Profile = Static<typeof ProfileSchema>;

/** A stored profile as one reader gets it, plus when it was taken and whether the table changed since. */
export const ServedProfileSchema = Type.Object(
  { ...ProfileSchema.properties, profiled_at: Timestamp, stale: Type.Boolean() },
  { additionalProperties: false },
);
export type ServedProfile = Static<typeof ServedProfileSchema>;

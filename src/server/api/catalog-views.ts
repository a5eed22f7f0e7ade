import { Type } from '@sinclair/typebox';
import type { Profile, ServedProfile } from '../../contract/index.js';
import type { AccessView } from '../../core/access/access.js';
import { datasetOf } from '../../core/access/decide.js';
import type { MetricDefinition } from '../../core/catalog/metrics.js';
import type { RegistryEntry, SyncState, TableProfile } from '../../core/state/repositories/index.js';
import { NullableTimestamp } from '../schemas.js';

/** Response shapes and view builders of the catalog API (03 §7). */

const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const CatalogAccess = Type.Union([
  Type.Literal('read'),
  Type.Literal('none'),
  Type.Literal('pending'),
]);
export type CatalogAccessState = 'read' | 'none' | 'pending';

const catalogTableProperties = {
  id: Type.String(),
  name: Type.String(),
  description: Type.String(),
  source: Type.String(),
  source_type: Type.String(),
  dataset: Type.String(),
  bucket: Type.String(),
  query_mode: Type.String(),
  sync_strategy: Type.String(),
  access: CatalogAccess,
  rows: Type.Optional(NullableInt),
  size_bytes: Type.Optional(NullableInt),
  updated: Type.Optional(NullableTimestamp),
  has_profile: Type.Optional(Type.Boolean()),
  tags: Type.Optional(Type.Array(Type.String())),
  owners: Type.Optional(Type.Array(Type.String())),
  tier: Type.Optional(NullableString),
};

/** `CatalogTable`: `rows`, `size_bytes`, `updated` and `has_profile` only for readers. */
export const CatalogTable = Type.Object(catalogTableProperties);

const ColumnView = Type.Object({
  name: Type.String(),
  type: Type.String(),
  description: NullableString,
  tags: Type.Array(Type.String()),
});

const SyncInfo = Type.Object({
  status: Type.String(),
  layout: Type.String(),
  query_mode: Type.String(),
  last_sync: NullableTimestamp,
  extracted_at: NullableTimestamp,
  rows: NullableInt,
  size_bytes: NullableInt,
  file_count: Type.Integer(),
  error: NullableString,
});

/** Detail: readers also get the key, columns, sync info and when the profile was taken. */
export const TableDetail = Type.Object({
  ...catalogTableProperties,
  primary_key: Type.Optional(Type.Array(Type.String())),
  columns: Type.Optional(Type.Array(ColumnView)),
  sync: Type.Optional(Type.Union([SyncInfo, Type.Null()])),
  profiled_at: Type.Optional(NullableTimestamp),
});

export const MetricSummary = Type.Object({
  path: Type.String(),
  name: Type.String(),
  display_name: Type.String(),
  category: Type.String(),
  grain: NullableString,
  tables: Type.Array(Type.String()),
});

export const splitKey = (key: string | null | undefined): string[] =>
  (key ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);

/** Everything the catalog knows about one table for one request. */
export interface CatalogEntry {
  registry: RegistryEntry;
  state: SyncState | undefined;
  hasProfile: boolean;
}

/** The `CatalogTable` of one registered table as the caller may see it. */
export function catalogTable(entry: CatalogEntry, access: CatalogAccessState) {
  const { registry: r, state } = entry;
  const base = {
    id: r.id,
    name: r.name,
    description: r.description ?? state?.description ?? '',
    source: r.source,
    source_type: r.source_type,
    dataset: datasetOf(r),
    bucket: r.bucket,
    query_mode: r.query_mode,
    sync_strategy: r.sync_strategy,
    access,
  };
  if (access !== 'read') return base;
  const published = state?.status === 'ok';
  return {
    ...base,
    rows: published ? (state?.rows ?? null) : null,
    size_bytes: published ? (state?.file_size_bytes ?? null) : null,
    updated: state?.extracted_at ?? null,
    has_profile: entry.hasProfile,
  };
}

export function syncInfo(state: SyncState | undefined) {
  if (!state) return null;
  return {
    status: state.status,
    layout: state.layout,
    query_mode: state.query_mode,
    last_sync: state.last_sync,
    extracted_at: state.extracted_at,
    rows: state.rows,
    size_bytes: state.file_size_bytes,
    file_count: state.files.length,
    error: state.error,
  };
}

export function metricSummary(metric: MetricDefinition) {
  return {
    path: metric.path,
    name: metric.name,
    display_name: metric.display_name,
    category: metric.category,
    grain: metric.grain,
    tables: metric.tables,
  };
}

/** A metric is for the caller only when every table it mentions is readable (04 §6.2). */
export function canReadMetric(view: AccessView, metric: { tables: readonly string[] }): boolean {
  return metric.tables.every((table) => view.canRead(table).allowed);
}

/**
 * A stored profile for one reader (02 §7): `related_tables` naming tables the reader cannot read
 * and `used_by_metrics` whose metric mentions one (or no longer exists) are removed; `stale` when
 * the table's current hash differs from the profiled one.
 */
export function servedProfile(
  row: TableProfile,
  state: SyncState | undefined,
  view: AccessView,
  metrics: readonly MetricDefinition[],
): ServedProfile {
  const profile = row.profile as unknown as Profile;
  const byPath = new Map(metrics.map((m) => [m.path, m]));
  return {
    ...profile,
    related_tables: (profile.related_tables ?? []).filter((r) => view.canRead(r.table).allowed),
    used_by_metrics: (profile.used_by_metrics ?? []).filter((u) => {
      const metric = byPath.get(u.file);
      return metric !== undefined && canReadMetric(view, metric);
    }),
    profiled_at: row.profiled_at,
    stale: (state?.hash ?? null) !== row.source_hash,
  };
}

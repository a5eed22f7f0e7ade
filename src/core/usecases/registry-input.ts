import { Type } from '@sinclair/typebox';
import {
  GranularitySchema,
  QueryModeSchema,
  type RegistryRow,
  SyncStrategySchema,
} from '../../contract/index.js';
import { AgnesError } from '../errors.js';
import type { ConnectorTraits } from '../extract/connector.js';
import { isValidSchedule } from '../schedule/schedule.js';
import type { RegistryEntry } from '../state/repositories/index.js';
import type { QueryMode, SyncStrategy } from '../state/schema.js';

/** `RegistryInput` of 03 §12 administration: the schema, the id derivation and the rules that span fields. */

/** Display name: no control characters, quotes, `;` or `/`, and not blank. */
const NAME_PATTERN = '^(?=.*\\S)[^\\u0000-\\u001f\\u007f"\'`;/]{1,200}$';
/** A column name inside a primary key or partition setting: no control characters, no comma. */
const COLUMN_PATTERN = '^(?=.*\\S)[^\\u0000-\\u001f\\u007f,]{1,200}$';
/** Free text kept on one line. */
const LINE_PATTERN = '^[^\\u0000-\\u001f\\u007f]*$';

const TableId = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$', description: 'table-id pattern' });
const SourceName = Type.String({ pattern: '^[a-zA-Z_][a-zA-Z0-9_]{0,63}$', description: 'source name' });
const Column = Type.String({ pattern: COLUMN_PATTERN });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

/** Every `RegistryInput` field but `id`, `name` and `source`, which PUT and POST treat differently. */
const CommonFields = {
  source_type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_]{0,31}$' })),
  bucket: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{0,200}$' })),
  source_table: Type.Optional(Type.String({ minLength: 1, maxLength: 500, pattern: LINE_PATTERN })),
  sync_strategy: Type.Optional(SyncStrategySchema),
  query_mode: Type.Optional(QueryModeSchema),
  sync_schedule: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200 }))),
  profile_after_sync: Type.Optional(Type.Boolean()),
  primary_key: Type.Optional(
    Type.Union([
      Type.String({ minLength: 1, maxLength: 2000, pattern: LINE_PATTERN }),
      Type.Array(Column, { minItems: 1, maxItems: 32 }),
      Type.Null(),
    ]),
  ),
  partition_by: Type.Optional(Nullable(Column)),
  partition_granularity: Type.Optional(Type.Union([GranularitySchema, Type.Null()])),
  folder: Type.Optional(Nullable(Type.String({ maxLength: 200, pattern: LINE_PATTERN }))),
  description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  is_public: Type.Optional(Type.Boolean()),
  is_discoverable: Type.Optional(Type.Boolean()),
  catalog_fqn: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 500, pattern: LINE_PATTERN }))),
};

export const RegisterBody = Type.Object(
  {
    name: Type.String({ pattern: NAME_PATTERN }),
    id: Type.Optional(TableId),
    source: SourceName,
    ...CommonFields,
    sync_now: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const UpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ pattern: NAME_PATTERN })),
    source: Type.Optional(SourceName),
    ...CommonFields,
  },
  { additionalProperties: false, minProperties: 1 },
);

export type RegisterInput = typeof RegisterBody.static;
export type UpdateInput = typeof UpdateBody.static;

/**
 * The default table id of a display name (03 §12 administration): trim, lower-case, runs of other characters →
 * `_`, `_` stripped at the ends, `t_` before a leading digit; null when nothing usable remains.
 */
export function deriveTableId(name: string): string | null {
  let id = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (id === '') return null;
  if (/^[0-9]/.test(id)) id = `t_${id}`;
  return id.slice(0, 64).replace(/_+$/, '');
}

/** `"a, b"` or `["a", "b"]` → the stored comma-separated list; null clears it. */
export function primaryKeyText(value: string | string[] | null | undefined): string | null | undefined {
  if (value === undefined || value === null) return value;
  const columns = (Array.isArray(value) ? value : value.split(','))
    .map((c) => c.trim())
    .filter((c) => c !== '');
  return columns.length > 0 ? columns.join(',') : null;
}

/** The stored comma-separated key as the API's array. */
export function primaryKeyColumns(value: string | null): string[] {
  return (value ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
}

export function registryRowView(entry: RegistryEntry): RegistryRow {
  return { ...entry, primary_key: primaryKeyColumns(entry.primary_key) };
}

/** The fields the cross-field rules look at, after defaults and the stored row are applied. */
export interface RuleFields {
  source_type: string;
  sync_strategy: SyncStrategy;
  query_mode: QueryMode;
  sync_schedule: string | null;
  primary_key: string | null;
  partition_by: string | null;
  partition_granularity: string | null;
}

/**
 * The rules of 03 §12 administration that span fields; every failure is listed, as a schema failure would be.
 * A 422 `validation_failed` with per-field messages (never the rejected values).
 */
export function checkRules(fields: RuleFields, traits: ConnectorTraits): void {
  const problems: { path: string; message: string }[] = [];
  if (fields.sync_strategy === 'incremental' && !fields.primary_key)
    problems.push({ path: '/body/primary_key', message: 'is required for the incremental strategy' });
  if (fields.sync_strategy === 'partitioned') {
    if (!fields.partition_by)
      problems.push({ path: '/body/partition_by', message: 'is required for the partitioned strategy' });
    if (!fields.partition_granularity)
      problems.push({
        path: '/body/partition_granularity',
        message: 'is required for the partitioned strategy',
      });
  }
  if (!traits.queryModes.includes(fields.query_mode))
    problems.push({
      path: '/body/query_mode',
      message: `is not supported by the ${fields.source_type} connector`,
    });
  if (fields.sync_schedule !== null && !isValidSchedule(fields.sync_schedule))
    problems.push({
      path: '/body/sync_schedule',
      message: 'must be a schedule (every 1h, daily 06:00, cron, manual)',
    });
  if (problems.length > 0) {
    throw new AgnesError('validation_failed', 'request validation failed', { extra: { errors: problems } });
  }
}

import type { DiscoveredTable, DiscoverSource } from '../../core/extract/connector.js';
import type { RetryTuning } from '../../core/http/retry.js';
import { normaliseTableName } from '../../core/ids.js';
import { readServiceAccountKey, TokenSource } from './auth.js';
import { BigQueryClient, type BigQueryTable, DEFAULT_TUNING } from './client.js';
import type { BigQuerySourceConfig } from './config.js';
import { BigQueryError } from './errors.js';
import { isObjectName } from './names.js';
import { duckType } from './types.js';

/** int64 values arrive as decimal strings; anything else is unknown. */
export function countOrNull(value: string | number | undefined): number | null {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function lastChange(value: string | number | undefined): string | null {
  const ms = countOrNull(value);
  return ms === null ? null : new Date(ms).toISOString();
}

/** A client for one run: the key file is read once and one token serves every call. */
export async function openClient(
  config: BigQuerySourceConfig,
  tuning: Partial<RetryTuning> = {},
): Promise<BigQueryClient> {
  const full = { ...DEFAULT_TUNING, ...tuning };
  const key = await readServiceAccountKey(config.credentials_file);
  return new BigQueryClient(config.api_endpoint, config.project, new TokenSource(key, full), full);
}

function describeTable(dataset: string, tableId: string, table: BigQueryTable): DiscoveredTable | null {
  const name = normaliseTableName(tableId);
  if (!name) return null;
  return {
    name,
    source_table: tableId,
    bucket: dataset,
    columns: (table.schema?.fields ?? []).map((field) => ({ name: field.name, type: duckType(field) })),
    rows: countOrNull(table.numRows),
    size_bytes: countOrNull(table.numBytes),
    primary_key: table.tableConstraints?.primaryKey?.columns ?? [],
    last_change: lastChange(table.lastModifiedTime),
  };
}

/**
 * Every table of the project's datasets (07 §4 BigQuery). Names that could not be used safely in
 * a URL or a view are left out; a table deleted between listing and lookup is skipped.
 */
export async function discoverBigQuery(
  source: DiscoverSource,
  tuning: Partial<RetryTuning> = {},
): Promise<DiscoveredTable[]> {
  const client = await openClient(source.config as BigQuerySourceConfig, tuning);
  const found: DiscoveredTable[] = [];
  for (const dataset of (await client.listDatasets()).filter(isObjectName)) {
    for (const { tableId } of await client.listTables(dataset)) {
      if (!isObjectName(tableId)) continue;
      try {
        const described = describeTable(dataset, tableId, await client.getTable(dataset, tableId));
        if (described) found.push(described);
      } catch (error) {
        if (!(error instanceof BigQueryError && error.code === 'not_found')) throw error;
      }
    }
  }
  return found;
}

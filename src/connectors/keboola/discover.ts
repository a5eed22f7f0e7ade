import type { DiscoveredTable, DiscoverSource } from '../../core/extract/connector.js';
import { normaliseTableName } from '../../core/ids.js';
import type { ClientTuning } from './client.js';
import { StorageClient, type StorageTable } from './client.js';
import { isStorageName, typedColumns } from './columns.js';
import type { KeboolaSourceConfig } from './config.js';

function isoOrNull(value: string | null | undefined): string | null {
  const time = value ? Date.parse(value) : Number.NaN;
  return Number.isNaN(time) ? null : new Date(time).toISOString();
}

function describeTable(table: StorageTable): DiscoveredTable | null {
  const bucket = table.bucket?.id;
  if (!bucket || !isStorageName(bucket) || !isStorageName(table.name)) return null;
  let columns: { name: string; type: string }[];
  try {
    columns = typedColumns(table);
  } catch {
    return null;
  }
  const name = normaliseTableName(table.name);
  if (!name) return null;
  return {
    name,
    source_table: table.name,
    bucket,
    columns,
    rows: table.rowsCount ?? null,
    size_bytes: table.dataSizeBytes ?? null,
    primary_key: Array.isArray(table.primaryKey) ? table.primaryKey : [],
    last_change: isoOrNull(table.lastChangeDate ?? table.lastImportDate),
  };
}

/**
 * The tables of the project (07 §3.1), one Storage API call. Tables whose ids or columns cannot be
 * used safely are left out rather than offered for registration.
 */
export async function discoverKeboola(
  source: DiscoverSource,
  tuning: Partial<ClientTuning> = {},
): Promise<DiscoveredTable[]> {
  const config = source.config as KeboolaSourceConfig;
  const client = new StorageClient(config.stack_url, source.env[config.token_env] ?? '', tuning);
  return (await client.listTables()).flatMap((table) => describeTable(table) ?? []);
}

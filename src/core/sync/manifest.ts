import { createHash } from 'node:crypto';
import type { ManifestTable } from '../../contract/index.js';
import { datasetOf } from '../access/decide.js';
import type { FileRecord, Layout, QueryMode } from '../state/schema.js';

/** The sync manifest (02 §8): what one user may sync, with content hashes, built per request. */

/** The `sync_state` fields the manifest reads. */
export interface ManifestState {
  table_id: string;
  source: string;
  query_mode: QueryMode;
  layout: Layout;
  extracted_at: string | null;
  rows: number | null;
  file_size_bytes: number | null;
  hash: string | null;
  files: readonly FileRecord[];
  status: string;
  description: string | null;
}

/** The registry fields the manifest reads. */
export interface ManifestRegistryEntry {
  name: string;
  bucket: string;
  description: string | null;
}

/** A user's sync setting for one dataset (04 §6.3). */
export interface ManifestSetting {
  dataset: string;
  enabled: boolean;
  table_mode: 'all' | 'selected';
  tables: readonly string[];
}

/** One table's manifest entry, serialised once per catalog revision and shared by every user's manifest. */
export interface PreparedTable {
  id: string;
  dataset: string;
  /** The entry itself, for a reader whose entry differs (a policy-bound reader's slice, 12 §3). */
  entry: ManifestTable;
  /** `"<id>":{…}`, ready to be joined into the `tables` object. */
  json: string;
}

export interface ManifestInput {
  userId: string;
  generation: number;
  serverTime: string;
  /** Every published, registered table, in the order the manifest lists them. */
  tables: readonly PreparedTable[];
  /** The access function for this user (04 §6.1). */
  canRead(tableId: string): boolean;
  settings: readonly ManifestSetting[];
  /** This user's own entries of some tables (their policy slices), replacing the shared ones. */
  overrides?: ReadonlyMap<string, ManifestTable>;
}

export interface BuiltManifest {
  /** The response body, serialised once (the tables part is what the ETag hashes). */
  body: string;
  /** `"m-<generation>-<sha256 of the tables object>"`. */
  etag: string;
}

/** Settings only narrow (04 §6.3): no row → listed; disabled → not; `selected` → only the chosen tables. */
function settingAllows(setting: ManifestSetting | undefined, tableId: string): boolean {
  if (!setting) return true;
  if (!setting.enabled) return false;
  return setting.table_mode === 'all' || setting.tables.includes(tableId);
}

function tableEntry(state: ManifestState, registered: ManifestRegistryEntry, dataset: string): ManifestTable {
  const remote = state.layout === 'remote';
  return {
    id: state.table_id,
    name: registered.name,
    description: registered.description ?? state.description ?? '',
    source: state.source,
    dataset,
    query_mode: state.query_mode,
    layout: state.layout,
    rows: state.rows,
    size_bytes: state.file_size_bytes ?? 0,
    hash: remote ? null : state.hash,
    updated: state.extracted_at,
    // Bare names: the client downloads by table id and name, never by a server path.
    files: remote ? [] : state.files.map((f) => ({ name: f.name, size: f.size, hash: f.hash })),
  };
}

/**
 * The user-independent half of the manifest (02 §8): `sync_state` ∩ registry, published (`ok`)
 * tables only, each entry serialised. Pure; the caller caches it per catalog revision.
 */
export function prepareManifestTables(
  states: readonly ManifestState[],
  registry: ReadonlyMap<string, ManifestRegistryEntry>,
): PreparedTable[] {
  const prepared: PreparedTable[] = [];
  for (const state of states) {
    if (state.status !== 'ok') continue;
    const registered = registry.get(state.table_id);
    if (!registered) continue;
    const dataset = datasetOf(registered);
    const entry = tableEntry(state, registered, dataset);
    prepared.push({ id: state.table_id, dataset, entry, json: entryJson(state.table_id, entry) });
  }
  return prepared;
}

const entryJson = (id: string, entry: ManifestTable) => `${JSON.stringify(id)}:${JSON.stringify(entry)}`;

/** One user's manifest: the prepared tables ∩ the access function ∩ the user's sync settings (02 §8). */
export function buildManifest(input: ManifestInput): BuiltManifest {
  const settings = new Map(input.settings.map((s) => [s.dataset, s]));
  const parts: string[] = [];
  for (const table of input.tables) {
    if (!input.canRead(table.id) || !settingAllows(settings.get(table.dataset), table.id)) continue;
    const own = input.overrides?.get(table.id);
    parts.push(own ? entryJson(table.id, own) : table.json);
  }
  const tablesJson = `{${parts.join(',')}}`;
  const digest = createHash('sha256').update(tablesJson, 'utf8').digest('hex');
  const body = `{"server_time":${JSON.stringify(input.serverTime)},"generation":${input.generation},"user_id":${JSON.stringify(input.userId)},"tables":${tablesJson}}`;
  return { body, etag: `"m-${input.generation}-${digest}"` };
}

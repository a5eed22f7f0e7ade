import { stat } from 'node:fs/promises';
import type { Manifest, ManifestPolicy, MeResponse, Health as ServerHealth } from '../contract/index.js';
import type { ApiClient } from './client.js';
import type { CliContext } from './context.js';
import { CliError, EXIT } from './errors.js';
import { layoutOf, targetPath } from './sync/paths.js';
import { loadState, type SyncState } from './sync/state.js';

/** Read-only looks at the server and the local copy, shared by `da status`, `diagnose` and `setup verify`. */

export interface Health {
  reachable: boolean;
  status: string | null;
  version: string | null;
  /** Why the server could not be asked, when it could not. */
  error: string | null;
}

export async function probeHealth(client: ApiClient): Promise<Health> {
  try {
    const { body } = await client.request<ServerHealth>('GET', '/api/health', {
      auth: false,
      accept: [503],
    });
    return { reachable: true, status: body.status, version: body.version, error: null };
  } catch (error) {
    if (error instanceof CliError && error.exitCode === EXIT.unreachable)
      return { reachable: false, status: null, version: null, error: error.message };
    throw error;
  }
}

/** The signed-in user, or null without a valid credential; other failures propagate. */
export async function whoIsSignedIn(client: ApiClient, hasToken: boolean): Promise<MeResponse | null> {
  if (!hasToken) return null;
  try {
    return await client.json<MeResponse>('GET', '/auth/me');
  } catch (error) {
    if (error instanceof CliError && error.exitCode === EXIT.unauthenticated) return null;
    throw error;
  }
}

export async function localState(ctx: CliContext, server: string): Promise<SyncState> {
  return loadState(ctx.store.syncStatePath(server, ctx.localDir), server, ctx.localDir);
}

/** `<table>/<file>` for every file the state records that is gone or has another size locally. */
export async function missingFiles(ctx: CliContext, state: SyncState): Promise<string[]> {
  const { parquetRoot } = layoutOf(ctx.localDir);
  const missing: string[] = [];
  for (const [id, table] of Object.entries(state.tables)) {
    for (const [name, file] of Object.entries(table.files)) {
      const path = await targetPath(parquetRoot, id, table.layout, name).catch(() => null);
      const info = path ? await stat(path).catch(() => null) : null;
      if (info?.size !== file.size) missing.push(`${id}/${name}`);
    }
  }
  return missing;
}

/** Local tables whose content differs from the manifest, or that were never synced. */
export function outOfDate(manifest: Manifest, state: SyncState): string[] {
  return Object.values(manifest.tables)
    .filter((t) => t.layout !== 'remote' && state.tables[t.id]?.hash !== t.hash)
    .map((t) => t.id)
    .sort();
}

/** Bytes a sync would still download: manifest files the state does not hold at the same hash. */
export function bytesToDownload(manifest: Manifest, state: SyncState): number {
  let bytes = 0;
  for (const table of Object.values(manifest.tables)) {
    const local = state.tables[table.id]?.files ?? {};
    for (const file of table.files) if (local[file.name]?.hash !== file.hash) bytes += file.size;
  }
  return bytes;
}

export function remoteTables(manifest: Manifest): string[] {
  return Object.values(manifest.tables)
    .filter((t) => t.layout === 'remote')
    .map((t) => t.id)
    .sort();
}

/** What a policy-bound reader's manifest entry says (12 §3): the policies and the masked columns. */
export type TablePolicyMark = ManifestPolicy;

/** The manifest's policy-bound tables of the caller (12 §5: `da status` and `da catalog` mark them). */
export function filteredTables(manifest: Manifest): Map<string, TablePolicyMark> {
  const marks = new Map<string, TablePolicyMark>();
  for (const table of Object.values(manifest.tables)) {
    if (table.policy) marks.set(table.id, table.policy);
  }
  return marks;
}

/** `orders (policy EU rows; masked email=hash)`. */
export function policyMarkText(id: string, mark: TablePolicyMark): string {
  const masks = mark.masked_columns.map((m) => `${m.column}=${m.mask}`).join(', ');
  const names = mark.names.length > 0 ? `policy ${mark.names.join(', ')}` : 'no rows: no policy applies';
  return `${id} (${names}${masks ? `; masked ${masks}` : ''})`;
}

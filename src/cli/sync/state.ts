import { readFile } from 'node:fs/promises';
import { writePrivateJson } from '../local-store.js';
import type { ViewsStamp } from './views.js';

export interface LocalFileState {
  hash: string;
  size: number;
}

export interface LocalTableState {
  hash: string | null;
  layout: 'single' | 'multi';
  rows: number | null;
  synced_at: string;
  files: Record<string, LocalFileState>;
}

/** The sync state of one (server, local directory) pair (06 §2). */
export interface SyncState {
  version: 1;
  server: string;
  local_dir: string;
  generation: number | null;
  manifest_etag: string | null;
  last_sync: string | null;
  tables: Record<string, LocalTableState>;
  /** Remote tables of the last manifest, so a 304 reports them too. */
  remote?: string[];
  /** The local database as the last complete view update left it (see refreshLocalViews). */
  views?: ViewsStamp;
  uploads: { sessions: Record<string, string>; local_md: string | null };
}

export function emptyState(server: string, localDir: string): SyncState {
  return {
    version: 1,
    server,
    local_dir: localDir,
    generation: null,
    manifest_etag: null,
    last_sync: null,
    tables: {},
    uploads: { sessions: {}, local_md: null },
  };
}

export async function loadState(path: string, server: string, localDir: string): Promise<SyncState> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as SyncState;
    if (parsed.version === 1 && parsed.server === server && parsed.local_dir === localDir && parsed.tables) {
      parsed.uploads ??= { sessions: {}, local_md: null };
      return parsed;
    }
  } catch {
    // Missing or unreadable state: start over; files are re-checked against the manifest anyway.
  }
  return emptyState(server, localDir);
}

/** Saved after every finished file, so an interrupted sync resumes where it stopped. */
export async function saveState(path: string, state: SyncState): Promise<void> {
  await writePrivateJson(path, state);
}

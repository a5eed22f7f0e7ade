import { lstat, rm, rmdir } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Manifest, ManifestTable } from '../../contract/index.js';
import type { ApiClient } from '../client.js';
import { type CliContext, connect } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { downloadFile, HashMismatchError, StaleManifestError, TransientDownloadError } from './download.js';
import { lockSyncDirectory } from './lock.js';
import { layoutOf, localPath, refuseSymlinks, targetPath } from './paths.js';
import { type FileTask, type Plan, planSync, type TableError } from './plan.js';
import { createProgress } from './progress.js';
import { loadState, type SyncState, saveState } from './state.js';
import { refreshLocalViews } from './views.js';

export interface SyncOptions {
  tables: string[];
  dataset?: string;
  parallel: number;
  dryRun: boolean;
  verify: boolean;
  prune: boolean;
}

export interface SyncReport {
  server: string;
  generation: number | null;
  downloaded: { table: string; files: number; bytes: number }[];
  unchanged: string[];
  removed: string[];
  remote: string[];
  errors: TableError[];
  bytes_downloaded: number;
  duration_ms: number;
  planned?: { table: string; file: string; bytes: number }[];
}

const RETRY_DELAYS_MS = [500, 1000, 2000];

function stateEntry(
  id: string,
  layout: ManifestTable['layout'],
  fields: Pick<ManifestTable, 'rows' | 'hash' | 'files'>,
): ManifestTable {
  const queryMode = layout === 'remote' ? 'remote' : 'local';
  return {
    id,
    name: id,
    description: '',
    source: '',
    dataset: '',
    query_mode: queryMode,
    layout,
    size_bytes: 0,
    updated: null,
    ...fields,
  };
}

/** Rebuilds what the manifest said from the local state, for a 304 (nothing changed on the server). */
function manifestFromState(state: SyncState): Manifest {
  const tables: Record<string, ManifestTable> = {};
  for (const [id, table] of Object.entries(state.tables)) {
    const files = Object.entries(table.files).map(([name, f]) => ({ name, size: f.size, hash: f.hash }));
    tables[id] = stateEntry(id, table.layout, { rows: table.rows, hash: table.hash, files });
  }
  for (const id of state.remote ?? [])
    tables[id] = stateEntry(id, 'remote', { rows: null, hash: null, files: [] });
  return { server_time: new Date().toISOString(), generation: state.generation ?? 0, user_id: '', tables };
}

async function fetchManifest(
  client: ApiClient,
  etag: string | null,
): Promise<{ manifest: Manifest | null; etag: string | null }> {
  const response = await client.request<Manifest>('GET', '/api/sync/manifest', {
    headers: etag ? { 'if-none-match': etag } : {},
    accept: [304],
  });
  if (response.status === 304) return { manifest: null, etag };
  return { manifest: response.body, etag: response.headers.get('etag') };
}

/** Runs `fn` over `items` with at most `parallel` running at once. */
async function pool<T>(items: T[], parallel: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(parallel, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/** Deletes a file `da` recorded, only inside the parquet root and never through a symlink (06 §8 path safety). */
async function deleteRecorded(parquetRoot: string, path: string): Promise<void> {
  if (!path.startsWith(parquetRoot + sep)) return;
  await refuseSymlinks(parquetRoot, path).catch(() => {
    throw new CliError(EXIT.failed, 'refusing to delete through a symlink', 'unsafe_name');
  });
  const info = await lstat(path).catch(() => null);
  if (info?.isFile()) await rm(path, { force: true });
}

class SyncRun {
  readonly report: SyncReport;
  readonly #downloaded = new Map<string, { files: number; bytes: number }>();
  #saving: Promise<void> = Promise.resolve();

  constructor(
    readonly client: ApiClient,
    readonly state: SyncState,
    readonly statePath: string,
    readonly parquetRoot: string,
    server: string,
  ) {
    this.report = {
      server,
      generation: null,
      downloaded: [],
      unchanged: [],
      removed: [],
      remote: [],
      errors: [],
      bytes_downloaded: 0,
      duration_ms: 0,
    };
  }

  save(): Promise<void> {
    this.#saving = this.#saving.then(() => saveState(this.statePath, this.state));
    return this.#saving;
  }

  /** Downloads planned files; returns the tables whose download met a stale manifest. */
  async download(
    plan: Plan,
    manifest: Manifest,
    parallel: number,
    progress: ReturnType<typeof createProgress>,
  ): Promise<Set<string>> {
    const stale = new Set<string>();
    const failed = new Set<string>();
    await pool(plan.downloads, parallel, async (task) => {
      if (failed.has(task.table) || stale.has(task.table)) return;
      const tick = progress.start(`${task.table}/${task.name}`, task.size);
      try {
        await this.#downloadWithRetry(task, tick);
        this.#record(task, manifest.tables[task.table]!);
        await this.save();
      } catch (error) {
        if (error instanceof StaleManifestError) stale.add(task.table);
        else if (error instanceof CliError && error.exitCode === EXIT.unauthenticated) throw error;
        else {
          failed.add(task.table);
          this.report.errors.push(tableError(task, error));
        }
      } finally {
        progress.finish(`${task.table}/${task.name}`);
      }
    });
    return stale;
  }

  async #downloadWithRetry(task: FileTask, tick: (n: number) => void): Promise<void> {
    const counted = (n: number) => {
      tick(n);
      this.report.bytes_downloaded += n;
      const entry = this.#downloaded.get(task.table) ?? { files: 0, bytes: 0 };
      entry.bytes += n;
      this.#downloaded.set(task.table, entry);
    };
    let mismatches = 0;
    let interruptions = 0;
    for (;;) {
      try {
        await downloadFile(this.client, task, counted);
        break;
      } catch (error) {
        // A hash mismatch starts the file over once; an interrupted transfer resumes with Range (06 §4 HTTP client, §6).
        if (error instanceof HashMismatchError && mismatches++ < 1) continue;
        if (error instanceof TransientDownloadError && interruptions < RETRY_DELAYS_MS.length) {
          await sleep(RETRY_DELAYS_MS[interruptions++]! + Math.random() * 250);
          continue;
        }
        throw error;
      }
    }
    const entry = this.#downloaded.get(task.table) ?? { files: 0, bytes: 0 };
    entry.files += 1;
    this.#downloaded.set(task.table, entry);
  }

  #record(task: FileTask, table: ManifestTable): void {
    const current = this.state.tables[task.table];
    const entry =
      current && current.layout === task.layout
        ? current
        : { hash: null, layout: task.layout, rows: null, synced_at: new Date().toISOString(), files: {} };
    entry.files[task.name] = { hash: task.hash, size: task.size };
    const complete = table.files.every((f) => entry.files[f.name]?.hash === f.hash);
    if (complete) {
      entry.hash = table.hash;
      entry.rows = table.rows;
      entry.synced_at = new Date().toISOString();
    }
    this.state.tables[task.table] = entry;
  }

  finishReport(): void {
    this.report.downloaded = [...this.#downloaded.entries()]
      .filter(([, v]) => v.files > 0)
      .map(([table, v]) => ({ table, files: v.files, bytes: v.bytes }))
      .sort((a, b) => (a.table < b.table ? -1 : 1));
  }
}

function tableError(task: FileTask, error: unknown): TableError {
  if (error instanceof HashMismatchError)
    return { table: task.table, file: task.name, code: 'hash_mismatch', message: error.message };
  if (error instanceof CliError) {
    const message =
      error.status === 403
        ? 'access denied (403)'
        : error.status === 404
          ? 'not found on the server (404)'
          : error.status !== null && error.status >= 500
            ? `server error (${error.status}): ${error.message}`
            : error.message;
    return { table: task.table, file: task.name, code: error.code, message };
  }
  return { table: task.table, file: task.name, code: 'download_failed', message: (error as Error).message };
}

/** `da sync` (06 §6). */
export async function runSync(ctx: CliContext, options: SyncOptions): Promise<SyncReport> {
  const started = performance.now();
  const { server, client } = await connect(ctx, { requireAuth: true });
  const layout = layoutOf(ctx.localDir);
  await ctx.store.ensureSyncDir();
  const statePath = ctx.store.syncStatePath(server, ctx.localDir);
  await refuseSymlinks(ctx.localDir, layout.parquetRoot);
  const lock = await lockSyncDirectory(layout.lockPath);
  try {
    const state = await loadState(statePath, server, ctx.localDir);
    const run = new SyncRun(client, state, statePath, layout.parquetRoot, server);
    const narrowed = options.tables.length > 0 || options.dataset !== undefined;
    // The state knows no datasets, so a 304 could not be narrowed by one: ask for the full manifest.
    const fetched = await fetchManifest(client, options.dataset === undefined ? state.manifest_etag : null);
    const manifest = fetched.manifest ?? manifestFromState(state);
    const unknown = options.tables.filter((id) => !(id in manifest.tables));
    if (unknown.length > 0) {
      throw new CliError(
        EXIT.notFound,
        `not on the server for you: ${unknown.join(', ')} (removed, or no read access); run: da sync to list and prune`,
        'unknown_table',
      );
    }
    const selection = {
      tables: options.tables,
      dataset: options.dataset,
      verify: options.verify,
      prune: options.prune && !narrowed,
    };
    const plan = await planSync(manifest, state, layout.parquetRoot, selection);
    run.report.generation = manifest.generation;
    run.report.remote = plan.remote;
    run.report.unchanged = plan.unchanged;
    run.report.errors.push(...plan.errors);
    if (options.dryRun) {
      run.report.planned = plan.downloads.map((d) => ({ table: d.table, file: d.name, bytes: d.size }));
      run.report.removed = plan.prune;
      run.report.duration_ms = Math.round(performance.now() - started);
      return run.report;
    }
    const progress = createProgress(
      !ctx.out.json && !ctx.options.quiet,
      plan.downloads.reduce((sum, d) => sum + d.size, 0),
    );
    let stale: Set<string>;
    try {
      stale = await run.download(plan, manifest, options.parallel, progress);
      if (stale.size > 0) {
        // The server published newer files while we read: replan those tables once (06 §6 sync algorithm).
        const fresh = await fetchManifest(client, null);
        const replan = await planSync(fresh.manifest!, state, layout.parquetRoot, {
          tables: [...stale],
          verify: false,
          prune: false,
        });
        const still = await run.download(replan, fresh.manifest!, options.parallel, progress);
        for (const table of still)
          run.report.errors.push({
            table,
            code: 'stale_manifest',
            message: 'the table changed on the server during the sync; run da sync again',
          });
        Object.assign(manifest.tables, fresh.manifest!.tables);
      }
    } finally {
      progress.stop();
    }
    await removeStale(run, plan, layout.parquetRoot);
    const views = await refreshLocalViews(
      layout.dbPath,
      await localViews(plan, run.state, layout.parquetRoot),
      plan.prune,
      state.views,
    );
    state.views = views.stamp;
    run.report.errors.push(...views.errors);
    state.generation = manifest.generation;
    if (!narrowed) state.remote = plan.remote;
    // The ETag vouches that the local state matches the manifest; only a complete run may keep it,
    // or the next sync's 304 would hide the tables this one missed.
    state.manifest_etag = !narrowed && run.report.errors.length === 0 ? fetched.etag : null;
    state.last_sync = new Date().toISOString();
    await run.save();
    run.finishReport();
    run.report.duration_ms = Math.round(performance.now() - started);
    return run.report;
  } finally {
    await lock.release();
  }
}

/** Shards no longer listed, and whole tables no longer in the manifest (pruning), leave the disk and the state. */
async function removeStale(run: SyncRun, plan: Plan, parquetRoot: string): Promise<void> {
  for (const { table, name } of plan.staleShards) {
    await deleteRecorded(parquetRoot, await targetPath(parquetRoot, table, 'multi', name));
    delete run.state.tables[table]?.files[name];
  }
  for (const id of plan.prune) {
    const recorded = run.state.tables[id];
    if (recorded) {
      for (const name of Object.keys(recorded.files)) {
        await deleteRecorded(
          parquetRoot,
          await targetPath(parquetRoot, id, recorded.layout, name).catch(() => ''),
        );
      }
      if (recorded.layout === 'multi') await rmdir(join(parquetRoot, id)).catch(() => undefined);
    }
    delete run.state.tables[id];
    run.report.removed.push(id);
  }
  if (plan.staleShards.length > 0 || plan.prune.length > 0) await run.save();
}

/** The synced local tables whose every file is present as the state records it. */
async function localViews(plan: Plan, state: SyncState, parquetRoot: string) {
  const views = [];
  for (const table of plan.tables) {
    const recorded = state.tables[table.id];
    if (!recorded || table.layout === 'remote') continue;
    const names = table.files.map((f) => f.name).filter((name) => recorded.files[name]);
    if (names.length === 0) continue;
    const files = [];
    // Checked for symlinks while planning.
    for (const name of names.sort()) files.push(localPath(parquetRoot, table.id, table.layout, name));
    views.push({
      id: table.id,
      layout: table.layout,
      files,
      hashes: names.map((n) => recorded.files[n]!.hash),
    });
  }
  return views;
}

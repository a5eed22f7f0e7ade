import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_FILE_PATTERN } from '../fs/atomic.js';
import type { PolicySlice, Repositories } from '../state/repositories/index.js';
import { slicePath } from './slices.js';

const DAY_MS = 86_400_000;

/** A build's temp file older than this was left by a crash, not by a build in progress. */
const ABANDONED_TEMP_MS = 60 * 60_000;

/**
 * The slices maintenance deletes (12 §3): those of a table no longer published (unregistered,
 * failed, or gone from `sync_state`), those built from content the table no longer has (its hash
 * changed), and those unused since `cutoff`. Pure.
 */
export function slicesToDelete(
  slices: readonly PolicySlice[],
  published: ReadonlyMap<string, string | null>,
  cutoff: string,
): PolicySlice[] {
  return slices.filter((slice) => {
    if (!published.has(slice.table_id)) return true;
    if (published.get(slice.table_id) !== slice.table_hash) return true;
    return slice.last_used_at < cutoff;
  });
}

/**
 * "Unused" for `policies.slice_ttl_days`: not used for that many days; with 0, not used since
 * the previous maintenance run (every run then keeps only what was read in between), or, before
 * any run, not used at all since now.
 */
export function unusedCutoff(now: Date, ttlDays: number, previousRun: string | null): string {
  if (ttlDays > 0) return new Date(now.getTime() - ttlDays * DAY_MS).toISOString();
  return previousRun ?? now.toISOString();
}

/** Deletes the stale and unused slices, files first, then their rows; returns how many. */
export async function pruneSlices(
  deps: { repos: Pick<Repositories, 'policySlices' | 'syncState' | 'registry'>; dataDir: string },
  cutoff: string,
): Promise<number> {
  const { repos, dataDir } = deps;
  const [slices, states, registry] = await Promise.all([
    repos.policySlices.list(),
    repos.syncState.listStates(),
    repos.registry.list(),
  ]);
  const registered = new Set(registry.map((r) => r.id));
  const published = new Map(
    states.filter((s) => s.status === 'ok' && registered.has(s.table_id)).map((s) => [s.table_id, s.hash]),
  );
  const doomed = slicesToDelete(slices, published, cutoff);
  for (const slice of doomed) await rm(slicePath(dataDir, slice.table_id, slice.slice_key), { force: true });
  await repos.policySlices.delete(doomed.map((s) => s.slice_key));
  await removeAbandonedTemps(join(dataDir, 'slices'));
  return doomed.length;
}

async function removeAbandonedTemps(root: string): Promise<void> {
  const tables = await readdir(root).catch(() => [] as string[]);
  for (const table of tables) {
    const dir = join(root, table);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names.filter((n) => TEMP_FILE_PATTERN.test(n))) {
      const info = await stat(join(dir, name)).catch(() => null);
      if (info && Date.now() - info.mtimeMs > ABANDONED_TEMP_MS) await rm(join(dir, name), { force: true });
    }
  }
}

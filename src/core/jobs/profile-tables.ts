import { join } from 'node:path';
import { metricFiles } from '../catalog/metrics.js';
import { errorMessage } from '../errors.js';
import { sanitizeDetail } from '../orchestrator/sanitize.js';
import type { RelatedCandidate } from '../profiler/index.js';
import { type ProfileOptions, profileTable } from '../profiler/index.js';
import type { Repositories } from '../state/repositories/index.js';
import type { Logger } from './logger.js';

export interface ProfileRunReport {
  profiled: string[];
  skipped: string[];
  failed: { table: string; error: string }[];
}

export interface ProfileDeps {
  repos: Repositories;
  dataDir: string;
  options: ProfileOptions;
  log: Logger;
}

const splitKey = (key: string | null | undefined) =>
  (key ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);

/**
 * Profiles published local tables whose content hash differs from the hash last profiled (or all
 * of `tableIds` with `force`), and stores the results. Remote tables are never profiled.
 */
export async function profileTables(
  deps: ProfileDeps,
  tableIds: readonly string[] | null,
  options: { force?: boolean } = {},
): Promise<ProfileRunReport> {
  const report: ProfileRunReport = { profiled: [], skipped: [], failed: [] };
  const states = (await deps.repos.syncState.listStates()).filter(
    (s) => tableIds === null || tableIds.includes(s.table_id),
  );
  const registry = new Map((await deps.repos.registry.list()).map((r) => [r.id, r]));
  const profiles = new Map((await deps.repos.profiles.list()).map((p) => [p.table_id, p]));
  const candidates: RelatedCandidate[] = [...registry.values()]
    .filter((r) => splitKey(r.primary_key).length > 0)
    .map((r) => ({
      tableId: r.id,
      primaryKey: splitKey(r.primary_key),
      columns: ((profiles.get(r.id)?.profile.columns as { name: string }[] | undefined) ?? []).map(
        (c) => c.name,
      ),
    }));
  // Read once per run: every profiled table lists the metric files that mention it (02 §7).
  const metrics = states.length > 0 ? await metricFiles(deps.dataDir) : [];

  for (const state of states) {
    const entry = registry.get(state.table_id);
    const profileable = state.status === 'ok' && state.query_mode === 'local' && state.files.length > 0;
    const wanted =
      options.force ||
      ((entry?.profile_after_sync ?? true) && profiles.get(state.table_id)?.source_hash !== state.hash);
    if (!profileable || !wanted) {
      report.skipped.push(state.table_id);
      continue;
    }
    const started = performance.now();
    try {
      const profile = await profileTable(
        {
          tableId: state.table_id,
          files: state.files.map((f) => join(deps.dataDir, f.path)),
          description: entry?.description ?? state.description ?? '',
          syncStrategy: entry?.sync_strategy ?? 'full_refresh',
          primaryKey: splitKey(entry?.primary_key),
          extractedAt: state.extracted_at,
          sourceHash: state.hash,
          sizeBytes: state.file_size_bytes ?? 0,
          relatedCandidates: candidates.filter((c) => c.tableId !== state.table_id),
          metricFiles: metrics,
        },
        deps.options,
      );
      await deps.repos.profiles.upsert({
        table_id: state.table_id,
        profile: profile as unknown as Record<string, unknown>,
        source_hash: state.hash,
        duration_ms: Math.round(performance.now() - started),
      });
      report.profiled.push(state.table_id);
    } catch (error) {
      deps.log.warn({ table: state.table_id, err: errorMessage(error) }, 'profiling failed');
      report.failed.push({ table: state.table_id, error: sanitizeDetail(error) });
    }
  }
  return report;
}

import { join } from 'node:path';
import type { SourceDefinition } from '../config/sources.js';
import type { ExtractInput, ExtractResult } from '../extract/connector.js';
import type { SyncOrchestrator } from '../orchestrator/orchestrator.js';
import type { RebuildReport } from '../orchestrator/report.js';
import { sanitizeDetail } from '../orchestrator/sanitize.js';
import type { Job, JobOutcome, Repositories } from '../state/repositories/index.js';
import { type ExtractorCommand, runExtractorChild } from './extract-child.js';
import type { Logger } from './logger.js';
import { type ProfileDeps, type ProfileRunReport, profileTables } from './profile-tables.js';

export interface SyncJobDeps {
  repos: Repositories;
  orchestrator: SyncOrchestrator;
  dataDir: string;
  sources: readonly SourceDefinition[];
  extractor: ExtractorCommand;
  extractTimeoutMs: number;
  env: NodeJS.ProcessEnv;
  profile: ProfileDeps;
  log: Logger;
}

export interface SyncJobReport {
  extract: ExtractResult | null;
  extract_error: string | null;
  rebuild: Pick<RebuildReport, 'generation' | 'mode' | 'duration_ms'> & {
    source: RebuildReport['sources'][string] | null;
  };
  profiles: ProfileRunReport;
  watermarks: Record<string, string>;
}

const splitKey = (key: string | null) =>
  (key ?? '')
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);

async function extractInput(
  deps: SyncJobDeps,
  source: SourceDefinition,
  job: Job,
  fullRefresh: boolean,
): Promise<ExtractInput> {
  const registered = (await deps.repos.registry.list({ source: source.name })).filter(
    (r) => job.tables.length === 0 || job.tables.includes(r.id),
  );
  const states = new Map(
    (await deps.repos.syncState.listStates({ source: source.name })).map((s) => [s.table_id, s]),
  );
  return {
    source: source.name,
    type: source.type,
    extractDir: join(deps.dataDir, 'extracts', source.name),
    fullRefresh,
    config: source.config,
    tables: registered.map((r) => ({
      id: r.id,
      source_table: r.source_table ?? r.name,
      bucket: r.bucket,
      sync_strategy: r.sync_strategy,
      query_mode: r.query_mode,
      primary_key: splitKey(r.primary_key),
      partition_by: r.partition_by,
      partition_granularity: r.partition_granularity,
      watermark: fullRefresh ? null : (states.get(r.id)?.watermark ?? null),
    })),
  };
}

/**
 * One sync job (01 §1 components and data flow, 07 §0 common model): the extractor in a child process, then `rebuildSource`, then
 * watermarks (only for tables that were verifiably published) and profiles of changed tables.
 */
export async function runSyncJob(
  deps: SyncJobDeps,
  job: Job,
  options: { fullRefresh: boolean; signal?: AbortSignal },
): Promise<JobOutcome> {
  const source = deps.sources.find((s) => s.name === job.source);
  if (!source)
    return { status: 'failed', report: null, error: `source ${job.source ?? '(none)'} is not configured` };
  const input = await extractInput(deps, source, job, options.fullRefresh);
  const child = await runExtractorChild(deps.extractor, input, {
    timeoutMs: deps.extractTimeoutMs,
    env: deps.env,
    signal: options.signal,
    onProgress: (line) => deps.log.debug({ job: job.id, source: source.name, line }, 'extract progress'),
  });
  if (options.signal?.aborted) return { status: 'failed', report: null, error: 'interrupted by shutdown' };

  const rebuild = await deps.orchestrator.rebuildSource(source.name);
  const published = rebuild.sources[source.name];
  const publishedTables = new Set(
    [...(published?.tables ?? []), ...(published?.remote_tables ?? [])].map((t) => t.toLowerCase()),
  );
  const watermarks: Record<string, string> = {};
  for (const [table, watermark] of Object.entries(child.result?.watermarks ?? {})) {
    if (!publishedTables.has(table)) continue;
    if (await deps.repos.syncState.setWatermark(table, watermark)) watermarks[table] = watermark;
  }
  const changed = [...publishedTables];
  const profiles = await profileTables(deps.profile, changed);

  const report: SyncJobReport = {
    extract: child.result,
    extract_error: child.error ? sanitizeDetail(child.error) : null,
    rebuild: {
      generation: rebuild.generation,
      mode: rebuild.mode,
      duration_ms: rebuild.duration_ms,
      source: published ?? null,
    },
    profiles,
    watermarks,
  };
  const extractFailed = !child.result || child.result.tables_failed.length > 0;
  const anyPublished = (child.result?.tables_extracted.length ?? 0) > 0;
  let status: JobOutcome['status'] = 'succeeded';
  if (!child.result || (extractFailed && !anyPublished)) status = 'failed';
  else if (extractFailed || published?.status !== 'ok') status = 'partial';
  const error =
    report.extract_error ??
    child.result?.tables_failed.map((f) => `${f.table}: ${f.code}`).join('; ') ??
    null;
  return { status, report: report as unknown as Record<string, unknown>, error: error || null };
}

import type { SchedulerJob, SchedulerJobList } from '../../contract/index.js';
import type { InstanceConfig } from '../config/index.js';
import type { SourceDefinition } from '../config/sources.js';
import type { ConnectorRegistry } from '../extract/connector.js';
import { syncTrigger } from '../schedule/plan.js';
import { parseSchedule, ScheduleError } from '../schedule/schedule.js';
import type { Repositories } from '../state/repositories/index.js';
import { syncSkipReason } from './sync.js';

export interface SchedulerJobsDeps {
  repos: Repositories;
  config: Pick<InstanceConfig, 'scheduler' | 'sync' | 'scripts'>;
  sources: readonly SourceDefinition[];
  connectors: ConnectorRegistry;
}

/** A schedule stored before validation existed is listed as it is; the scheduler skips and logs it. */
function isManual(schedule: string): boolean {
  try {
    return parseSchedule(schedule).kind === 'manual';
  } catch (error) {
    if (error instanceof ScheduleError) return false;
    throw error;
  }
}

/**
 * The scheduler's job list (03 §21, 08 §9): every registered table whose effective schedule (its
 * own, else `sync.default_schedule`) is not `manual`, with the start of its last sync. A table of
 * a push or unconfigured source is listed disabled, since a trigger would skip it. Alerts,
 * scripts, Jira and maintenance join the list as those features arrive.
 */
export async function schedulerJobs(deps: SchedulerJobsDeps, now: Date): Promise<SchedulerJobList> {
  const { repos, config } = deps;
  const scheduled = (await repos.registry.list())
    .map((entry) => ({ entry, schedule: (entry.sync_schedule ?? config.sync.default_schedule).trim() }))
    .filter(({ schedule }) => !isManual(schedule));
  const starts = await repos.jobs.lastSyncStarts(scheduled.map(({ entry }) => entry));
  const jobs = scheduled.map(
    ({ entry, schedule }): SchedulerJob => ({
      id: `table_sync:${entry.id}`,
      kind: 'table_sync',
      target_id: entry.id,
      source: entry.source,
      schedule,
      enabled: syncSkipReason(deps, entry) === null,
      last_run_at: starts.get(entry.id) ?? null,
      trigger: syncTrigger(entry.source, [entry.id]),
    }),
  );
  jobs.push(...(await scriptJobs(deps)));
  return {
    server_time: now.toISOString(),
    timezone: config.scheduler.timezone,
    in_process: config.scheduler.in_process,
    jobs: jobs.sort((a, b) => a.id.localeCompare(b.id)),
  };
}

/** Deployed scripts with a schedule other than `manual` (08 §6), run through their own run route. */
async function scriptJobs(deps: SchedulerJobsDeps): Promise<SchedulerJob[]> {
  return (await deps.repos.scripts.list())
    .filter((script) => script.schedule !== null && !isManual(script.schedule))
    .map((script) => ({
      id: `script:${script.id}`,
      kind: 'script',
      target_id: script.id,
      source: null,
      schedule: script.schedule!,
      enabled: script.enabled && deps.config.scripts.enabled,
      last_run_at: script.last_run,
      trigger: { method: 'POST', path: `/api/scripts/${encodeURIComponent(script.id)}/run`, body: null },
    }));
}

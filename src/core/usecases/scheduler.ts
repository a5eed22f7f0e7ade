import type { SchedulerJob, SchedulerJobList } from '../../contract/index.js';
import { alertJobs } from '../alerts/jobs.js';
import type { InstanceConfig } from '../config/index.js';
import type { SourceDefinition } from '../config/sources.js';
import type { ConnectorRegistry } from '../extract/connector.js';
import type { PushSource } from '../extract/push.js';
import { syncTrigger } from '../schedule/plan.js';
import { parseSchedule, ScheduleError } from '../schedule/schedule.js';
import type { Repositories } from '../state/repositories/index.js';
import { lastMaintenanceAt } from './maintenance.js';
import { syncSkipReason } from './sync.js';

export interface SchedulerJobsDeps {
  repos: Repositories;
  config: Pick<InstanceConfig, 'scheduler' | 'sync' | 'scripts'>;
  sources: readonly SourceDefinition[];
  connectors: ConnectorRegistry;
  push: ReadonlyMap<string, PushSource>;
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

/** Every registered table whose effective schedule (its own, else `sync.default_schedule`) is not `manual`. */
async function tableSyncJobs(deps: SchedulerJobsDeps): Promise<SchedulerJob[]> {
  const { repos, config } = deps;
  const scheduled = (await repos.registry.list())
    .map((entry) => ({ entry, schedule: (entry.sync_schedule ?? config.sync.default_schedule).trim() }))
    .filter(({ schedule }) => !isManual(schedule));
  const starts = await repos.jobs.lastSyncStarts(scheduled.map(({ entry }) => entry));
  return scheduled.map(
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
}

/** A push connector's own jobs (Jira's SLA poll and consistency check); the newest job of the kind is its last run. */
async function pushJobs(deps: SchedulerJobsDeps): Promise<SchedulerJob[]> {
  const jobs: SchedulerJob[] = [];
  for (const [source, push] of deps.push) {
    for (const { kind, schedule, path } of push.schedules) {
      if ((kind !== 'jira_sla' && kind !== 'jira_consistency') || isManual(schedule)) continue;
      const newest = (await deps.repos.jobs.list({ kind }, { page: 1, per_page: 1 })).items[0];
      jobs.push({
        id: `${kind}:${source}`,
        kind,
        target_id: null,
        source,
        schedule,
        enabled: true,
        last_run_at: newest ? (newest.started_at ?? newest.created_at) : null,
        trigger: { method: 'POST', path, body: null },
      });
    }
  }
  return jobs;
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

async function maintenanceJobs(deps: SchedulerJobsDeps): Promise<SchedulerJob[]> {
  const schedule = deps.config.scheduler.maintenance_schedule;
  if (isManual(schedule)) return [];
  return [
    {
      id: 'maintenance',
      kind: 'maintenance',
      target_id: null,
      source: null,
      schedule,
      enabled: true,
      last_run_at: await lastMaintenanceAt(deps.repos),
      trigger: { method: 'POST', path: '/api/admin/maintenance', body: null },
    },
  ];
}

/**
 * The scheduler's job list (03 §21, 08 §9): table syncs with their effective schedules (a table of
 * a push or unconfigured source is listed disabled, since a trigger would skip it), the push
 * connectors' own jobs, enabled alerts and maintenance, each with its last start.
 */
export async function schedulerJobs(deps: SchedulerJobsDeps, now: Date): Promise<SchedulerJobList> {
  const jobs = [
    ...(await tableSyncJobs(deps)),
    ...(await alertJobs(deps.repos)),
    ...(await scriptJobs(deps)),
    ...(await pushJobs(deps)),
    ...(await maintenanceJobs(deps)),
  ];
  return {
    server_time: now.toISOString(),
    timezone: deps.config.scheduler.timezone,
    in_process: deps.config.scheduler.in_process,
    jobs: jobs.sort((a, b) => a.id.localeCompare(b.id)),
  };
}

import type { SchedulerJob } from '../../contract/index.js';
import { isValidSchedule, parseSchedule } from '../schedule/schedule.js';
import type { Repositories } from '../state/repositories/index.js';

/** The trigger of one alert's scheduled run (03 §21): its own `run` route, which takes no body. */
function alertRunPath(alertId: string): string {
  return `/api/alerts/${encodeURIComponent(alertId)}/run`;
}

/**
 * The scheduler's alert jobs (08 §7): every enabled alert that is not `manual`, with its last
 * evaluation as `last_run_at`. A schedule this version cannot read is listed as it is, for the
 * scheduler to skip and log.
 */
export async function alertJobs(repos: Repositories): Promise<SchedulerJob[]> {
  const alerts = await repos.alerts.listEnabled();
  return alerts
    .filter((alert) => !isValidSchedule(alert.schedule) || parseSchedule(alert.schedule).kind !== 'manual')
    .map((alert) => ({
      id: `alert:${alert.id}`,
      kind: 'alert',
      target_id: alert.id,
      source: null,
      schedule: alert.schedule,
      enabled: true,
      last_run_at: alert.last_run_at,
      trigger: { method: 'POST', path: alertRunPath(alert.id), body: null },
    }));
}

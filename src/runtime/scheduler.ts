import type { SchedulerJob, SchedulerJobKind } from '../contract/index.js';
import type { JobRunner } from '../core/jobs/runner.js';
import { SchedulerLoop, type SchedulerPort } from '../core/schedule/loop.js';
import type { PlannedTrigger } from '../core/schedule/plan.js';
import { type AlertDeps, runAlert } from '../core/usecases/alerts.js';
import { type MaintenanceDeps, runMaintenance } from '../core/usecases/maintenance.js';
import { type SchedulerJobsDeps, schedulerJobs } from '../core/usecases/scheduler.js';
import type { Runtime } from './runtime.js';
import type { Service } from './services.js';

type InProcessDeps = SchedulerJobsDeps &
  MaintenanceDeps &
  AlertDeps &
  Pick<Runtime, 'clock'> & { jobs: Pick<JobRunner, 'enqueueSync' | 'enqueueTask'> };

/**
 * How `agnes serve` starts each kind of job other than table syncs itself, as its trigger route
 * would; a kind without an entry cannot run in-process yet.
 */
const START: Partial<
  Record<SchedulerJobKind, (runtime: InProcessDeps, job: SchedulerJob) => Promise<unknown>>
> = {
  // Evaluated in the scheduler's own turn through the use case behind `/run`.
  alert: (runtime, job) => runAlert(runtime, { scheduler: true }, job.target_id!, `scheduler:${job.id}`),
  jira_sla: (runtime) => runtime.jobs.enqueueTask('jira_sla', { requestedBy: null }),
  jira_consistency: (runtime) => runtime.jobs.enqueueTask('jira_consistency', { requestedBy: null }),
  maintenance: (runtime) => runMaintenance(runtime, null),
};

/**
 * The scheduler inside `agnes serve` (08 §1, `scheduler.in_process`): the same loop as
 * `agnes scheduler`, but it reads the job list through the use case behind
 * `GET /api/scheduler/jobs`, starts syncs on the job runner and runs every other kind through the
 * use case behind its trigger route, with no HTTP and no token.
 */
export function inProcessSchedulerPort(runtime: InProcessDeps): SchedulerPort {
  return {
    list: () => schedulerJobs(runtime, runtime.clock.now()),
    async fire(trigger: PlannedTrigger) {
      if (trigger.source !== null) {
        await runtime.jobs.enqueueSync({ source: trigger.source, tables: trigger.tables, requestedBy: null });
        return;
      }
      for (const job of trigger.jobs) {
        const start = START[job.kind];
        if (!start) throw new Error(`no in-process trigger for ${job.kind}`);
        await start(runtime, job);
      }
    },
  };
}

/** The runtime's scheduler service when `scheduler.in_process` is on (started with `agnes serve`). */
export function schedulerServices(runtime: Runtime): Service[] {
  const { scheduler } = runtime.config;
  if (!scheduler.in_process) return [];
  const log = runtime.log.child({ service: 'scheduler' });
  const loop = new SchedulerLoop({
    port: inProcessSchedulerPort(runtime),
    tickMs: scheduler.tick_seconds * 1000,
    maxJitterSeconds: scheduler.max_jitter_seconds,
    log,
  });
  return [{ name: 'scheduler', start: async () => loop.start(), stop: () => loop.stop() }];
}

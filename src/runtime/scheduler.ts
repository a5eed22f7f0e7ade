import type { JobRunner } from '../core/jobs/runner.js';
import { SchedulerLoop, type SchedulerPort } from '../core/schedule/loop.js';
import type { PlannedTrigger } from '../core/schedule/plan.js';
import { type SchedulerJobsDeps, schedulerJobs } from '../core/usecases/scheduler.js';
import type { Runtime } from './runtime.js';
import type { Service } from './services.js';

/**
 * The scheduler inside `agnes serve` (08 §1, `scheduler.in_process`): the same loop as
 * `agnes scheduler`, but it reads the job list through the use case behind
 * `GET /api/scheduler/jobs` and starts syncs on the job runner directly, with no HTTP and no token.
 */
export function inProcessSchedulerPort(
  runtime: SchedulerJobsDeps & Pick<Runtime, 'clock'> & { jobs: Pick<JobRunner, 'enqueueSync'> },
): SchedulerPort {
  return {
    list: () => schedulerJobs(runtime, runtime.clock.now()),
    async fire(trigger: PlannedTrigger) {
      // Only table syncs are listed so far; a kind the app lists later needs its own start here.
      if (trigger.source === null)
        throw new Error(`no in-process trigger for ${trigger.jobs.map((job) => job.kind).join(', ')}`);
      await runtime.jobs.enqueueSync({ source: trigger.source, tables: trigger.tables, requestedBy: null });
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

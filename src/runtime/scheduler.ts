import type { SchedulerJob, SchedulerJobKind } from '../contract/index.js';
import { errorMessage } from '../core/errors.js';
import type { JobRunner } from '../core/jobs/runner.js';
import { SchedulerLoop, type SchedulerPort } from '../core/schedule/loop.js';
import type { PlannedTrigger } from '../core/schedule/plan.js';
import { type AlertDeps, runAlert } from '../core/usecases/alerts.js';
import { type MaintenanceDeps, runMaintenance } from '../core/usecases/maintenance.js';
import { type SchedulerJobsDeps, schedulerJobs } from '../core/usecases/scheduler.js';
import { runAuditParams, runScript, type ScriptsDeps } from '../core/usecases/scripts.js';
import { ledByOneReplica } from './leadership.js';
import type { Runtime } from './runtime.js';
import type { Service } from './services.js';

type InProcessDeps = SchedulerJobsDeps &
  MaintenanceDeps &
  AlertDeps &
  ScriptsDeps &
  Pick<Runtime, 'clock' | 'log'> & { jobs: Pick<JobRunner, 'enqueueSync' | 'enqueueTask'> };

/**
 * How `agnes serve` starts each kind of job other than table syncs itself, as its trigger route
 * would; a kind without an entry cannot run in-process yet.
 */
const START: Partial<
  Record<
    SchedulerJobKind,
    (runtime: InProcessDeps, job: SchedulerJob, background: BackgroundRuns) => Promise<unknown>
  >
> = {
  // A script may run for minutes: it runs in the background, not in the scheduler's turn.
  script: async (runtime, job, background) => startScript(runtime, background, job.target_id!),
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
export function inProcessSchedulerPort(
  runtime: InProcessDeps,
  background: BackgroundRuns = new BackgroundRuns(),
): SchedulerPort {
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
        await start(runtime, job, background);
      }
    },
  };
}

/**
 * Runs the in-process scheduler starts without holding up its tick (a script may run for minutes),
 * and at shutdown kills what still runs and waits for it to be recorded.
 */
export class BackgroundRuns {
  readonly #stopping = new AbortController();
  readonly #runs = new Set<Promise<void>>();

  start(work: (signal: AbortSignal) => Promise<void>): void {
    const run = work(this.#stopping.signal).finally(() => this.#runs.delete(run));
    this.#runs.add(run);
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await Promise.allSettled([...this.#runs]);
  }
}

/** A due script (08 §6): run as `POST /api/scripts/{id}/run` would, its outcome logged and audited. */
function startScript(
  runtime: ScriptsDeps & Pick<Runtime, 'log'>,
  background: BackgroundRuns,
  scriptId: string,
): void {
  const log = runtime.log.child({ service: 'scheduler', script: scriptId });
  background.start(async (signal) => {
    const started = performance.now();
    let params: Record<string, unknown>;
    let result: 'ok' | 'error' = 'ok';
    try {
      const run = await runScript(runtime, scriptId, { signal });
      params = runAuditParams(run);
      log.info({ exit_code: run.exit_code, timed_out: run.timed_out }, 'script ran');
    } catch (error) {
      result = 'error';
      params = { error: errorMessage(error) };
      log.warn({ err: errorMessage(error) }, 'scheduled script did not run');
    }
    await runtime.repos.audit
      .append({
        user_id: null,
        action: 'scripts.run',
        resource: scriptId,
        params: { scheduled: true, ...params },
        result,
        duration_ms: Math.round(performance.now() - started),
        status_code: null,
        request_id: null,
        ip: null,
        client: 'service',
      })
      .catch((error: unknown) => log.error({ err: errorMessage(error) }, 'audit write failed'));
  });
}

/** The runtime's scheduler service when `scheduler.in_process` is on (started with `agnes serve`). */
export function schedulerServices(runtime: Runtime): Service[] {
  const { scheduler } = runtime.config;
  if (!scheduler.in_process) return [];
  const log = runtime.log.child({ service: 'scheduler' });
  const background = new BackgroundRuns();
  const loop = new SchedulerLoop({
    port: inProcessSchedulerPort(runtime, background),
    tickMs: scheduler.tick_seconds * 1000,
    maxJitterSeconds: scheduler.max_jitter_seconds,
    log,
  });
  return [
    ledByOneReplica(runtime, {
      name: 'scheduler',
      start: async () => loop.start(),
      stop: async () => {
        await loop.stop();
        await background.stop();
      },
    }),
  ];
}

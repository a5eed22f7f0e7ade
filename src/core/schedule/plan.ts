import type { SchedulerJob, SchedulerJobList, SchedulerTrigger } from '../../contract/index.js';
import { dueState, periodMs } from './due.js';
import { parseSchedule, ScheduleError } from './schedule.js';

/**
 * One tick of the scheduler (08 §1.3, §9), as a pure function of the app's job list: which jobs
 * are due, batched into one trigger per source for table syncs, each delayed by its jitter, and
 * never triggered twice while the app has not yet recorded the first trigger's start.
 */

/** After a trigger, the same job waits for a newer `last_run_at` at most this long (08 §1.3). */
export const RETRIGGER_GUARD_MS = 10 * 60_000;

/** The trigger of table syncs: the sync route takes a source and its tables in one call. */
export function syncTrigger(source: string, tables: readonly string[]): SchedulerTrigger {
  return { method: 'POST', path: '/api/sync/trigger', body: { source, tables: [...tables] } };
}

/** One call that starts due jobs: one source's due table syncs, or one other job. */
export interface PlannedTrigger {
  jobs: SchedulerJob[];
  /** The source of a table-sync batch, else null. */
  source: string | null;
  /** The table ids of a table-sync batch, sorted; empty for other kinds. */
  tables: string[];
  request: SchedulerTrigger;
  /** The jitter to wait before sending it. */
  delayMs: number;
}

export interface TickPlan {
  triggers: PlannedTrigger[];
  /** Jobs whose `last_run_at` is after the app's clock: never due, logged as clock skew. */
  clockSkew: SchedulerJob[];
  /** Jobs whose schedule does not parse (the app refuses to store one, so only from a newer app). */
  invalid: SchedulerJob[];
}

export interface PlanOptions {
  /** `scheduler.max_jitter_seconds`. */
  maxJitterSeconds: number;
  /** Uniform in [0, 1). */
  random: () => number;
}

interface Remembered {
  /** The `last_run_at` the app reported when the job was triggered. */
  lastRunAt: string | null;
  /** Until when (app time, ms) the job is not triggered again without a newer `last_run_at`. */
  until: number;
}

/**
 * What this scheduler triggered recently. It lives only in memory: restarting loses the guard,
 * never a run, because every schedule's state (`last_run_at`) lives in the app.
 */
export class TriggerMemory {
  readonly #entries = new Map<string, Remembered>();

  /** True while a triggered job waits for the app to report its start. */
  holds(job: SchedulerJob, now: number): boolean {
    const entry = this.#entries.get(job.id);
    if (!entry) return false;
    if (entry.lastRunAt === job.last_run_at && now < entry.until) return true;
    this.#entries.delete(job.id);
    return false;
  }

  remember(job: SchedulerJob, until: number): void {
    this.#entries.set(job.id, { lastRunAt: job.last_run_at, until });
  }

  /** A trigger that failed is retried on the next tick rather than after the guard. */
  forget(jobs: readonly SchedulerJob[]): void {
    for (const job of jobs) this.#entries.delete(job.id);
  }

  /** Drops jobs the app no longer lists, so the memory never outgrows the job list. */
  keepOnly(ids: ReadonlySet<string>): void {
    for (const id of this.#entries.keys()) if (!ids.has(id)) this.#entries.delete(id);
  }

  get size(): number {
    return this.#entries.size;
  }
}

/** A random wait of 0…min(max jitter, 10 % of the period) (08 §9). */
export function jitterMs(period: number | null, maxJitterSeconds: number, random: () => number): number {
  const bound = Math.min(maxJitterSeconds * 1000, (period ?? 0) * 0.1);
  return bound > 0 ? Math.floor(random() * bound) : 0;
}

/** Plans one tick and records its triggers in `memory`. */
export function planTick(list: SchedulerJobList, memory: TriggerMemory, options: PlanOptions): TickPlan {
  const nowDate = new Date(list.server_time);
  const now = nowDate.getTime();
  const plan: TickPlan = { triggers: [], clockSkew: [], invalid: [] };
  memory.keepOnly(new Set(list.jobs.map((job) => job.id)));
  const due: { job: SchedulerJob; period: number | null }[] = [];
  for (const job of list.jobs) {
    if (!job.enabled) continue;
    let schedule: ReturnType<typeof parseSchedule>;
    try {
      schedule = parseSchedule(job.schedule);
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      plan.invalid.push(job);
      continue;
    }
    // Asked of every job, so an entry whose start the app has reported is dropped at once.
    const held = memory.holds(job, now);
    const lastRunAt = job.last_run_at === null ? null : new Date(job.last_run_at);
    const state = dueState(schedule, lastRunAt, nowDate, list.timezone);
    if (state === 'clock_skew') plan.clockSkew.push(job);
    if (state !== 'due' || held) continue;
    due.push({ job, period: periodMs(schedule, nowDate, list.timezone) });
  }

  const bySource = new Map<string, typeof due>();
  for (const entry of due) {
    const { job } = entry;
    if (job.kind === 'table_sync' && job.source !== null && job.target_id !== null)
      bySource.set(job.source, [...(bySource.get(job.source) ?? []), entry]);
    else plan.triggers.push(planned([entry], null, [], job.trigger, options));
  }
  for (const source of [...bySource.keys()].sort()) {
    const batch = bySource.get(source)!;
    const tables = batch.map(({ job }) => job.target_id!).sort();
    plan.triggers.push(planned(batch, source, tables, syncTrigger(source, tables), options));
  }
  for (const trigger of plan.triggers)
    for (const job of trigger.jobs) memory.remember(job, now + trigger.delayMs + RETRIGGER_GUARD_MS);
  return plan;
}

/** A batch waits the jitter of its most frequent job, so no job in it waits beyond its own bound. */
function planned(
  batch: { job: SchedulerJob; period: number | null }[],
  source: string | null,
  tables: string[],
  request: SchedulerTrigger,
  options: PlanOptions,
): PlannedTrigger {
  const periods = batch.map((entry) => entry.period ?? 0);
  return {
    jobs: batch.map((entry) => entry.job),
    source,
    tables,
    request,
    delayMs: jitterMs(Math.min(...periods), options.maxJitterSeconds, options.random),
  };
}

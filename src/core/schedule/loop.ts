import type { SchedulerJobList } from '../../contract/index.js';
import { errorMessage } from '../errors.js';
import { HttpFailure } from '../http/retry.js';
import type { Logger } from '../jobs/logger.js';
import { type PlannedTrigger, planTick, TriggerMemory } from './plan.js';

/**
 * Where a scheduler reads its jobs and sends its triggers: the app's use case and job runner
 * inside `agnes serve`, or the app's HTTP API from `agnes scheduler`.
 */
export interface SchedulerPort {
  /** The jobs to evaluate now, or null when this scheduler stands by (another one is active). */
  list(): Promise<SchedulerJobList | null>;
  fire(trigger: PlannedTrigger): Promise<void>;
}

export interface SchedulerLoopOptions {
  port: SchedulerPort;
  /** `scheduler.tick_seconds` in ms. */
  tickMs: number;
  maxJitterSeconds: number;
  log: Logger;
  random?: () => number;
  /** While the app is unreachable: the first retry, doubled per failure up to the last (1 s → 60 s). */
  backoff?: { initialMs: number; maxMs: number };
}

export type TickOutcome = 'ok' | 'standby' | 'unreachable' | 'failed';

const REPEAT_LOG_MS = 60_000;

/** No answer, or an answer saying the app is not serving (a restart behind a proxy): retry soon, back off. */
export function isUnreachable(error: unknown): boolean {
  return error instanceof HttpFailure && (error.kind !== 'status' || (error.status ?? 0) >= 500);
}

/**
 * The scheduler's timer: a tick every `tickMs`, exponential backoff while the
 * app is unreachable, jittered triggers on timers of their own so a long jitter never delays the
 * next tick. It never exits on an error; it logs it (the same message at most once a minute).
 */
export class SchedulerLoop {
  readonly #options: SchedulerLoopOptions;
  readonly #random: () => number;
  readonly #backoff: { initialMs: number; maxMs: number };
  readonly #memory = new TriggerMemory();
  readonly #waiting = new Set<NodeJS.Timeout>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #logged = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #unreachableSince: number | null = null;
  #failures = 0;
  #standingBy = false;
  #running = false;

  constructor(options: SchedulerLoopOptions) {
    this.#options = options;
    this.#random = options.random ?? Math.random;
    this.#backoff = options.backoff ?? { initialMs: 1_000, maxMs: 60_000 };
  }

  /** The first tick comes one interval after the start, so a just-started app records its own startup syncs first. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#next(this.#options.tickMs);
  }

  /** Stops ticking, drops jittered triggers not yet sent, and waits for the call under way. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const timer of this.#waiting) clearTimeout(timer);
    this.#waiting.clear();
    await Promise.allSettled([...this.#inFlight]);
  }

  /** One cycle: list, plan, and send the triggers without jitter (the others wait on timers). */
  async tick(): Promise<TickOutcome> {
    const { port, log } = this.#options;
    let list: SchedulerJobList | null;
    try {
      list = await port.list();
    } catch (error) {
      if (isUnreachable(error)) return 'unreachable';
      this.#logOnceAMinute('list', 'warn', { err: errorMessage(error) }, 'could not list the scheduled jobs');
      return 'failed';
    }
    if (list === null) {
      if (!this.#standingBy) log.info({}, 'standing by: the app schedules its jobs itself');
      this.#standingBy = true;
      return 'standby';
    }
    if (this.#standingBy) log.info({}, 'scheduling: the app no longer schedules its jobs itself');
    this.#standingBy = false;
    let plan: ReturnType<typeof planTick>;
    try {
      plan = planTick(list, this.#memory, {
        maxJitterSeconds: this.#options.maxJitterSeconds,
        random: this.#random,
      });
    } catch (error) {
      // An answer this version cannot read (a newer or broken app): say so, keep ticking.
      this.#logOnceAMinute('plan', 'warn', { err: errorMessage(error) }, 'could not read the job list');
      return 'failed';
    }
    for (const job of plan.clockSkew)
      this.#logOnceAMinute(
        `skew ${job.id}`,
        'warn',
        { job: job.id, last_run_at: job.last_run_at, server_time: list.server_time },
        'clock skew: the last run is in the future, so the job is not due',
      );
    for (const job of plan.invalid)
      this.#logOnceAMinute(
        `invalid ${job.id}`,
        'warn',
        { job: job.id },
        'skipping a job with an invalid schedule',
      );
    for (const trigger of plan.triggers) {
      if (trigger.delayMs === 0) await this.#fire(trigger);
      else this.#later(trigger);
    }
    return 'ok';
  }

  #next(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const run = this.tick()
        .then((outcome) => this.#next(this.#delayAfter(outcome)))
        .finally(() => this.#inFlight.delete(run));
      this.#inFlight.add(run);
    }, delayMs);
  }

  #delayAfter(outcome: TickOutcome): number {
    if (outcome !== 'unreachable') {
      if (this.#unreachableSince !== null)
        this.#options.log.info(
          { unreachable_ms: Date.now() - this.#unreachableSince },
          'the app is reachable again',
        );
      this.#unreachableSince = null;
      this.#failures = 0;
      return this.#options.tickMs;
    }
    this.#unreachableSince ??= Date.now();
    const wait = Math.min(this.#backoff.initialMs * 2 ** this.#failures, this.#backoff.maxMs);
    this.#failures += 1;
    this.#options.log.warn({ retry_in_ms: wait }, 'the app is unreachable');
    return wait;
  }

  #later(trigger: PlannedTrigger): void {
    const timer = setTimeout(() => {
      this.#waiting.delete(timer);
      const run = this.#fire(trigger).finally(() => this.#inFlight.delete(run));
      this.#inFlight.add(run);
    }, trigger.delayMs);
    this.#waiting.add(timer);
  }

  async #fire(trigger: PlannedTrigger): Promise<void> {
    const fields = {
      jobs: trigger.jobs.map((job) => job.id),
      ...(trigger.source === null ? {} : { source: trigger.source, tables: trigger.tables }),
      jitter_ms: trigger.delayMs,
    };
    try {
      await this.#options.port.fire(trigger);
      this.#options.log.info(fields, 'triggered');
    } catch (error) {
      // Not started, so not guarded: the next tick tries again.
      this.#memory.forget(trigger.jobs);
      this.#logOnceAMinute(
        `fire ${fields.jobs.join(',')}`,
        'warn',
        { ...fields, err: errorMessage(error) },
        'trigger failed',
      );
    }
  }

  #logOnceAMinute(key: string, level: 'warn' | 'error', fields: object, message: string): void {
    const now = Date.now();
    const last = this.#logged.get(key);
    if (last !== undefined && now - last < REPEAT_LOG_MS) return;
    if (this.#logged.size > 1_000) this.#logged.clear();
    this.#logged.set(key, now);
    this.#options.log[level](fields, message);
  }
}

import type { Logger } from 'pino';
import { nextFire } from '../core/schedule/fire-times.js';
import { parseSchedule } from '../core/schedule/schedule.js';

/**
 * Runs `cycle` now and then at every slot of `schedule` (08 intro: each service keeps its own
 * timer), never two at once. `stop()` cancels the next slot and resolves when the running cycle
 * ends or `graceMs` passed, whichever is first.
 */
export class CycleLoop {
  readonly #schedule;
  readonly #timeZone: string;
  readonly #cycle: () => Promise<unknown>;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(options: { schedule: string; timeZone: string; cycle: () => Promise<unknown>; log: Logger }) {
    this.#schedule = parseSchedule(options.schedule);
    this.#timeZone = options.timeZone;
    this.#cycle = options.cycle;
    this.#log = options.log;
  }

  start(): void {
    this.#run();
  }

  #run(): void {
    if (this.#stopped) return;
    this.#running = this.#cycle()
      .then(() => undefined)
      .catch((error: unknown) =>
        this.#log.error({ error: error instanceof Error ? error.name : 'unknown' }, 'cycle failed'),
      )
      .finally(() => {
        this.#running = null;
        this.#plan();
      });
  }

  #plan(): void {
    const schedule = this.#schedule;
    if (this.#stopped || schedule.kind === 'manual') return;
    const now = Date.now();
    const next = schedule.kind === 'every' ? null : nextFire(schedule, new Date(now), this.#timeZone);
    const delay =
      schedule.kind === 'every'
        ? schedule.minutes * 60_000
        : Math.max((next?.getTime() ?? now + 3_600_000) - now, 1_000);
    this.#timer = setTimeout(() => this.#run(), delay);
  }

  async stop(graceMs: number): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (!this.#running) return;
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([this.#running, new Promise<void>((done) => (grace = setTimeout(done, graceMs)))]);
    clearTimeout(grace);
  }
}

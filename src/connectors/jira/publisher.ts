import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/jobs/logger.js';

/**
 * Debounced publication (07 §5.3, §5.7): after shards change, `publish` runs on the trailing edge,
 * at most once per `intervalMs` measured from the start of the previous run, so a steady stream
 * of events publishes every interval and the last change is always published. A failed run is
 * tried again an interval later.
 */
export class Publisher {
  readonly #publish: () => Promise<void>;
  readonly #intervalMs: number;
  readonly #log: Logger;
  #pending = false;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #lastStart = Number.NEGATIVE_INFINITY;
  #stopped = false;

  constructor(publish: () => Promise<void>, intervalMs: number, log: Logger) {
    this.#publish = publish;
    this.#intervalMs = intervalMs;
    this.#log = log;
  }

  changed(): void {
    this.#pending = true;
    this.#schedule();
  }

  /** Publishes now if a change is waiting, and waits for it (tests, and before stopping). */
  async flush(): Promise<void> {
    await this.#running;
    if (!this.#pending) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#run();
  }

  /** Publishes again after a stop (a replica that leads the Jira worker once more), a waiting change first. */
  start(): void {
    this.#stopped = false;
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped || this.#timer || this.#running || !this.#pending) return;
    const wait = Math.max(0, this.#lastStart + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#run();
    }, wait);
  }

  #run(): Promise<void> {
    if (!this.#pending) return Promise.resolve();
    this.#pending = false;
    this.#lastStart = Date.now();
    this.#running = this.#publish()
      .catch((error: unknown) => {
        // Tried again an interval later: the extract is already on disk, only its views are behind.
        this.#pending = true;
        this.#log.error({ err: errorMessage(error) }, 'jira publication failed');
      })
      .finally(() => {
        this.#running = null;
        this.#schedule();
      });
    return this.#running;
  }
}

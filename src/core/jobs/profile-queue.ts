import { errorMessage } from '../errors.js';
import { type ProfileDeps, profileTables } from './profile-tables.js';

/**
 * Profiles tables a push source published, off the publication path: one run at a time, at most
 * one run per `minIntervalMs` (a push source republishes every few seconds under load, and its
 * profiles need not follow each publication), and tables asked for meanwhile are profiled
 * together in the next run. `profileTables` skips tables whose content did not change.
 */
export class ProfileQueue {
  readonly #deps: ProfileDeps;
  readonly #minIntervalMs: number;
  readonly #waiting = new Set<string>();
  #running: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastStart = Number.NEGATIVE_INFINITY;
  #stopped = false;

  constructor(deps: ProfileDeps, minIntervalMs: number) {
    this.#deps = deps;
    this.#minIntervalMs = minIntervalMs;
  }

  request(tables: readonly string[]): void {
    if (this.#stopped) return;
    for (const table of tables) this.#waiting.add(table);
    this.#next();
  }

  /** Takes no more requests; a run in progress finishes (profiling is bounded by its caps). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#waiting.clear();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    while (this.#running) await this.#running;
  }

  #next(): void {
    if (this.#stopped || this.#running || this.#timer || this.#waiting.size === 0) return;
    const wait = this.#lastStart + this.#minIntervalMs - Date.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#next();
      }, wait);
      this.#timer.unref();
      return;
    }
    const tables = [...this.#waiting];
    this.#waiting.clear();
    this.#lastStart = Date.now();
    this.#running = profileTables(this.#deps, tables)
      .then(() => undefined)
      .catch((error: unknown) => this.#deps.log.warn({ err: errorMessage(error) }, 'profiling failed'))
      .finally(() => {
        this.#running = null;
        this.#next();
      });
  }
}

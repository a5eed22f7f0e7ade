import { errorMessage } from '../errors.js';
import { type ProfileDeps, profileTables } from './profile-tables.js';

/**
 * Profiles tables a push source published, off the publication path: one run at a time, and
 * tables asked for while a run is going are profiled together in the next one. `profileTables`
 * skips tables whose content did not change since their last profile.
 */
export class ProfileQueue {
  readonly #deps: ProfileDeps;
  readonly #waiting = new Set<string>();
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(deps: ProfileDeps) {
    this.#deps = deps;
  }

  request(tables: readonly string[]): void {
    if (this.#stopped) return;
    for (const table of tables) this.#waiting.add(table);
    this.#next();
  }

  /** Waits for the run in progress and everything queued behind it. */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Takes no more requests; a run in progress finishes (profiling is bounded by its caps). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#waiting.clear();
    await this.idle();
  }

  #next(): void {
    if (this.#running || this.#waiting.size === 0) return;
    const tables = [...this.#waiting];
    this.#waiting.clear();
    this.#running = profileTables(this.#deps, tables)
      .then(() => undefined)
      .catch((error: unknown) => this.#deps.log.warn({ err: errorMessage(error) }, 'profiling failed'))
      .finally(() => {
        this.#running = null;
        if (!this.#stopped) this.#next();
      });
  }
}

import { join } from 'node:path';
import { errorMessage } from '../errors.js';
import { WRITE_LOCK_FILE } from '../extract/contract.js';
import { acquireLock } from '../fs/lock-file.js';
import { type ProfileDeps, profileTables } from './profile-tables.js';

/** Runs for tables not yet profiled (or whose last run failed) are still this far apart. */
const FRESH_SPACING_MS = 2000;

/**
 * Profiles tables a push source published, off the publication path: one run at a time, holding
 * the source's write lock (its worker rewrites shards while the app runs, and a profile read
 * across a rewrite would mix two versions of a table), and
 * tables asked for meanwhile are profiled together in the next run. A table this queue has not
 * profiled yet (or failed to: its files changed under the profiler) goes within seconds; after
 * that, at most one run per `minIntervalMs` (a push source republishes every few seconds under
 * load, and its profiles need not follow each publication).
 * `profileTables` skips tables whose content did not change.
 */
export class ProfileQueue {
  readonly #deps: ProfileDeps;
  readonly #source: string;
  readonly #minIntervalMs: number;
  readonly #waiting = new Set<string>();
  readonly #profiled = new Set<string>();
  #running: Promise<void> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #lastStart = Number.NEGATIVE_INFINITY;
  #stopped = false;

  constructor(deps: ProfileDeps, source: string, minIntervalMs: number) {
    this.#deps = deps;
    this.#source = source;
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

  async #profile(tables: string[]) {
    const lock = await acquireLock(join(this.#deps.dataDir, 'extracts', this.#source, WRITE_LOCK_FILE), {
      waitMs: 10 * 60_000,
    });
    try {
      return await profileTables(this.#deps, tables);
    } finally {
      await lock.release();
    }
  }

  #next(): void {
    if (this.#stopped || this.#running || this.#timer || this.#waiting.size === 0) return;
    const fresh = [...this.#waiting].some((table) => !this.#profiled.has(table));
    const wait = this.#lastStart + (fresh ? FRESH_SPACING_MS : this.#minIntervalMs) - Date.now();
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
    for (const table of tables) this.#profiled.add(table);
    this.#lastStart = Date.now();
    this.#running = this.#profile(tables)
      .then((report) => {
        // A table whose files changed under the profiler is tried again without waiting its turn.
        for (const failed of report.failed) {
          this.#profiled.delete(failed.table);
          if (!this.#stopped) this.#waiting.add(failed.table);
        }
      })
      .catch((error: unknown) => this.#deps.log.warn({ err: errorMessage(error) }, 'profiling failed'))
      .finally(() => {
        this.#running = null;
        this.#next();
      });
  }
}

import { AgnesError } from '../errors.js';

export interface SlotLimits {
  perUser: number;
  global: number;
  /** How long a request waits for a global slot before 429 `server_busy` (05 §2 pipeline: 5 s). */
  waitMs: number;
}

interface Waiter {
  grant(): void;
  timer: NodeJS.Timeout;
}

/**
 * Query concurrency (05 §2 pipeline step 2): a per-user cap answered at once, and a global cap a request
 * waits for in arrival order. A user's waiting requests count against their own cap, so one user
 * cannot fill the queue.
 */
export class QuerySlots {
  readonly #limits: SlotLimits;
  readonly #perUser = new Map<string, number>();
  readonly #waiters: Waiter[] = [];
  #running = 0;

  constructor(limits: SlotLimits) {
    this.#limits = limits;
  }

  get running(): number {
    return this.#running;
  }

  /** Resolves with the slot's release function; throws 429 `too_many_queries` / `server_busy`. */
  async acquire(userId: string): Promise<() => void> {
    const mine = this.#perUser.get(userId) ?? 0;
    if (mine >= this.#limits.perUser)
      throw new AgnesError(
        'too_many_queries',
        `at most ${this.#limits.perUser} queries per user may run at once; try again when one has finished`,
      );
    this.#perUser.set(userId, mine + 1);
    try {
      await this.#global();
    } catch (error) {
      this.#leave(userId);
      throw error;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#leave(userId);
      const next = this.#waiters.shift();
      if (next) {
        clearTimeout(next.timer);
        next.grant();
      } else this.#running -= 1;
    };
  }

  #global(): Promise<void> {
    if (this.#running < this.#limits.global) {
      this.#running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        // The releasing query hands its slot over: `running` stays the same.
        grant: resolve,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(
            new AgnesError('server_busy', 'the server is busy running other queries; try again shortly'),
          );
        }, this.#limits.waitMs),
      };
      this.#waiters.push(waiter);
    });
  }

  #leave(userId: string): void {
    const left = (this.#perUser.get(userId) ?? 1) - 1;
    if (left <= 0) this.#perUser.delete(userId);
    else this.#perUser.set(userId, left);
  }
}

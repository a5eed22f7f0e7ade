/**
 * Runs tasks one after another per key and different keys side by side: a chat's messages are
 * answered in the order they were sent, while a slow chat never holds up the others (08 §2).
 * A failing task is reported and the key's next task still runs.
 */
export class KeyedSequencer<K> {
  readonly #tails = new Map<K, Promise<void>>();
  readonly #onError: (error: unknown, key: K) => void;
  readonly #waiters = new Set<() => void>();
  #pending = 0;

  constructor(onError: (error: unknown, key: K) => void) {
    this.#onError = onError;
  }

  /** Tasks submitted and not yet finished, over all keys. */
  get pending(): number {
    return this.#pending;
  }

  submit(key: K, task: () => Promise<unknown>): void {
    this.#pending += 1;
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const tail = previous
      .then(task)
      .then(
        () => undefined,
        (error: unknown) => this.#onError(error, key),
      )
      .finally(() => {
        this.#pending -= 1;
        // The last task of a key removes its chain, so idle chats hold no memory.
        if (this.#tails.get(key) === tail) this.#tails.delete(key);
        for (const wake of [...this.#waiters]) wake();
      });
    this.#tails.set(key, tail);
  }

  /** Resolves once at most `limit` tasks are pending: back-pressure for whoever submits. */
  async atMost(limit: number): Promise<void> {
    while (this.#pending > limit) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
      });
    }
  }
}

/**
 * The notification ids delivered in the last 24 hours with their Telegram message ids (08 §9), so
 * the dispatcher's retry of a request whose answer it lost never sends the message twice. A
 * delivery under way is shared by every request for the same id.
 */
export class DeliveredIds {
  readonly #done = new Map<string, { messageId: number; at: number }>();
  readonly #inFlight = new Map<string, Promise<number>>();
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: { ttlMs?: number; now?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? 24 * 3_600_000;
    this.#now = options.now ?? Date.now;
  }

  /** The message id of an earlier delivery, or the result of `send` run once for this id. */
  once(id: string, send: () => Promise<number>): Promise<number> {
    this.#prune();
    const done = this.#done.get(id);
    if (done) return Promise.resolve(done.messageId);
    const running = this.#inFlight.get(id);
    if (running) return running;
    const delivery = send()
      .then((messageId) => {
        this.#done.set(id, { messageId, at: this.#now() });
        return messageId;
      })
      .finally(() => this.#inFlight.delete(id));
    this.#inFlight.set(id, delivery);
    return delivery;
  }

  #prune(): void {
    const oldest = this.#now() - this.#ttlMs;
    // Insertion order is delivery order, so the expired entries are at the front.
    for (const [id, entry] of this.#done) {
      if (entry.at > oldest) break;
      this.#done.delete(id);
    }
  }
}

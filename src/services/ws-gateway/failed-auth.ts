/**
 * Failed authentications per client IP in fixed one-minute windows (08 §9): after `limit` in a
 * window, further connections from that IP are refused until the window ends.
 */
export class FailedAuthLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  blocked(ip: string): boolean {
    const window = this.#current(ip);
    return window !== undefined && window.count >= this.limit;
  }

  fail(ip: string): void {
    const window = this.#current(ip);
    if (window) window.count += 1;
    else this.#windows.set(ip, { start: this.now(), count: 1 });
  }

  /** Forgets ended windows, so the map holds only the last minute's offenders. */
  prune(): void {
    for (const [ip, window] of this.#windows)
      if (this.now() - window.start >= this.windowMs) this.#windows.delete(ip);
  }

  #current(ip: string): { start: number; count: number } | undefined {
    const window = this.#windows.get(ip);
    if (window && this.now() - window.start >= this.windowMs) {
      this.#windows.delete(ip);
      return undefined;
    }
    return window;
  }
}

import { createHash } from 'node:crypto';
import type { PublishedGeneration } from './published-views.js';
import type { Sandbox } from './sandbox.js';
import type { TableBinding } from './types.js';

export interface SandboxCacheOptions {
  /** `query.sandbox_cache_size`. */
  maxSize: number;
  /** Sandboxes idle this long are closed (10 minutes). */
  idleMs: number;
  build(
    key: string,
    published: PublishedGeneration,
    grantSet: readonly string[],
    bindings: ReadonlyMap<string, TableBinding>,
  ): Promise<Sandbox>;
}

interface Entry {
  generation: number;
  promise: Promise<Sandbox>;
  sandbox: Sandbox | null;
}

const NO_BINDINGS: ReadonlyMap<string, TableBinding> = new Map();

/**
 * The cache key of a grant set in a generation with the caller's policy bindings (12 §3): the
 * sorted table ids and each bound table's binding key, hashed to keep keys short. A changed
 * policy, attribute or membership changes a binding key, so the next request gets a new sandbox.
 */
export function sandboxKey(
  generation: number,
  grantSet: readonly string[],
  bindings: ReadonlyMap<string, TableBinding> = NO_BINDINGS,
): string {
  const hash = createHash('sha256').update(grantSet.join(','));
  for (const id of [...bindings.keys()].sort()) hash.update(`\n${id}=${bindings.get(id)!.key}`);
  return `${generation}:${hash.digest('hex').slice(0, 32)}`;
}

/**
 * Sandboxes by `(generation, grant set, slice keys)`, least recently used first out (05 §4). A sandbox leaving
 * the cache (evicted, idle, or of an older generation) is retired: it takes no new queries and
 * closes once its running queries end. Concurrent requests for one key share one build.
 */
export class SandboxCache {
  readonly #options: SandboxCacheOptions;
  readonly #entries = new Map<string, Entry>();
  /** Every sandbox built and not yet closed, cached or retiring. */
  readonly #live = new Set<Sandbox>();
  #newest = 0;
  #closed = false;
  readonly #sweeper: NodeJS.Timeout;

  constructor(options: SandboxCacheOptions) {
    this.#options = options;
    this.#sweeper = setInterval(() => this.sweep(), Math.min(60_000, Math.max(1_000, options.idleMs / 10)));
    this.#sweeper.unref();
  }

  /** Sandboxes open now, retiring ones included. */
  get open(): number {
    for (const sandbox of this.#live) if (sandbox.closed) this.#live.delete(sandbox);
    return this.#live.size;
  }

  /** Highest generation a sandbox was asked for. */
  get newestGeneration(): number {
    return this.#newest;
  }

  /**
   * A sandbox for the grant set with a reference taken (`release()` it), or null when the
   * generation is older than one already seen: the caller reads the view map again.
   */
  async acquire(
    published: PublishedGeneration,
    grantSet: readonly string[],
    bindings: ReadonlyMap<string, TableBinding> = NO_BINDINGS,
  ): Promise<Sandbox | null> {
    if (this.#closed) return null;
    if (published.generation < this.#newest) return null;
    if (published.generation > this.#newest) this.retireBefore(published.generation);
    const key = sandboxKey(published.generation, grantSet, bindings);
    let entry = this.#entries.get(key);
    if (entry) {
      // Most recently used last.
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    } else {
      const created: Entry = { generation: published.generation, promise: null!, sandbox: null };
      created.promise = this.#options.build(key, published, grantSet, bindings).then((sandbox) => {
        created.sandbox = sandbox;
        this.#live.add(sandbox);
        // Retired or closed while it was being built: nobody may use it.
        if (this.#entries.get(key) !== created || this.#closed) sandbox.retire();
        return sandbox;
      });
      entry = created;
      this.#entries.set(key, entry);
      this.#evict();
    }
    let sandbox: Sandbox;
    try {
      sandbox = await entry.promise;
    } catch (error) {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
      throw error;
    }
    if (sandbox.tryAcquire()) return sandbox;
    if (this.#entries.get(key) === entry) this.#entries.delete(key);
    return null;
  }

  /** Retires every sandbox of a generation older than `generation` (a new one was published). */
  retireBefore(generation: number): void {
    this.#newest = Math.max(this.#newest, generation);
    for (const [key, entry] of this.#entries) {
      if (entry.generation >= generation) continue;
      this.#entries.delete(key);
      entry.sandbox?.retire();
    }
  }

  /** Closes sandboxes idle for longer than `idleMs`. */
  sweep(now = Date.now()): void {
    for (const [key, entry] of this.#entries) {
      const sandbox = entry.sandbox;
      if (sandbox && sandbox.running === 0 && now - sandbox.lastUsed >= this.#options.idleMs) {
        this.#entries.delete(key);
        sandbox.retire();
      }
    }
  }

  #evict(): void {
    while (this.#entries.size > this.#options.maxSize) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) return;
      const entry = this.#entries.get(oldest.value);
      this.#entries.delete(oldest.value);
      entry?.sandbox?.retire();
    }
  }

  /** Retires everything; sandboxes close as their queries end (`waitClosed` to await that). */
  close(): void {
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const entry of this.#entries.values()) entry.sandbox?.retire();
    this.#entries.clear();
    for (const sandbox of this.#live) sandbox.retire();
  }

  /** Closes every sandbox now, running queries or not (after they were interrupted). */
  async closeAll(): Promise<void> {
    this.close();
    const all = [...this.#live];
    this.#live.clear();
    for (const sandbox of all) sandbox.close();
    await Promise.all(all.map((sandbox) => sandbox.removed));
  }
}

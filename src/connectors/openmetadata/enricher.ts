import type { Logger } from 'pino';
import type { CatalogEnricher, TableEnrichment } from '../../core/catalog/enrichment.js';
import type { RegistryEntry } from '../../core/state/repositories/index.js';
import type { OpenMetadataClient } from './client.js';
import { tableFqn, tableLink } from './fqn.js';
import { toTableEnrichment } from './tables.js';

/** How long a failed lookup is remembered (07 §6): the catalog does not wait on a broken upstream again. */
export const FAILURE_TTL_MS = 5 * 60_000;
/** Entries kept before expired ones are dropped; a registry has far fewer tables. */
const MAX_ENTRIES = 10_000;

interface Cached {
  value: TableEnrichment | null;
  expiresAt: number;
}

export interface EnricherOptions {
  client: Pick<OpenMetadataClient, 'table'>;
  /** The configured OpenMetadata URL, for links. */
  url: string;
  fqnTemplate: string;
  /** `cache_ttl_seconds` in milliseconds; 0 caches nothing but failures. */
  ttlMs: number;
  log: Pick<Logger, 'warn'>;
  now?: () => number;
}

/**
 * The catalog's view of OpenMetadata (07 §6): table facts by FQN, cached in memory for the
 * configured time, failures for five minutes. Concurrent lookups of one FQN share one request.
 */
export class OpenMetadataEnricher implements CatalogEnricher {
  readonly #options: EnricherOptions;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #inFlight = new Map<string, Promise<TableEnrichment | null>>();

  constructor(options: EnricherOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  peek(table: RegistryEntry): TableEnrichment | null {
    const fqn = tableFqn(table, this.#options.fqnTemplate);
    return fqn === null ? null : (this.#fresh(fqn)?.value ?? null);
  }

  async lookup(table: RegistryEntry): Promise<TableEnrichment | null> {
    const fqn = tableFqn(table, this.#options.fqnTemplate);
    if (fqn === null) return null;
    const hit = this.#fresh(fqn);
    if (hit) return hit.value;
    let pending = this.#inFlight.get(fqn);
    if (!pending) {
      pending = this.#fetch(fqn).finally(() => this.#inFlight.delete(fqn));
      this.#inFlight.set(fqn, pending);
    }
    return pending;
  }

  async #fetch(fqn: string): Promise<TableEnrichment | null> {
    try {
      const entity = await this.#options.client.table(fqn);
      // An FQN OpenMetadata does not know is an answer, cached like any other.
      const value = entity ? toTableEnrichment(entity, tableLink(this.#options.url, fqn)) : null;
      this.#store(fqn, value, this.#options.ttlMs);
      return value;
    } catch (error) {
      this.#options.log.warn(
        {
          fqn,
          code: (error as { code?: unknown }).code ?? 'error',
          reason: error instanceof Error ? error.message : 'unknown',
        },
        'OpenMetadata lookup failed; the catalog answers without it for 5 minutes',
      );
      this.#store(fqn, null, FAILURE_TTL_MS);
      return null;
    }
  }

  #fresh(fqn: string): Cached | undefined {
    const hit = this.#cache.get(fqn);
    return hit && hit.expiresAt > this.#now() ? hit : undefined;
  }

  #store(fqn: string, value: TableEnrichment | null, ttlMs: number): void {
    if (ttlMs <= 0) return;
    this.#cache.delete(fqn);
    this.#cache.set(fqn, { value, expiresAt: this.#now() + ttlMs });
    if (this.#cache.size <= MAX_ENTRIES) return;
    const now = this.#now();
    for (const [key, entry] of this.#cache) if (entry.expiresAt <= now) this.#cache.delete(key);
    // Still too many live entries: the oldest stored go first (a Map keeps insertion order).
    for (const key of this.#cache.keys()) {
      if (this.#cache.size <= MAX_ENTRIES) break;
      this.#cache.delete(key);
    }
  }
}

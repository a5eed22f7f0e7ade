import type { MemoryImportRequest, MemoryImportResult, Role } from '../../contract/index.js';
import type { CatalogEntry } from './extraction.js';

/**
 * What the collector needs from the app: over HTTP with a service account's token in
 * `agnes corporate-memory`, so the collector never opens the state store (08 intro).
 */
export interface CollectorPort {
  /** The caller's account; a refused token rejects with `CollectorAccountError`. */
  account(): Promise<{ is_service: boolean; role: Role }>;
  /** Which of these user ids are existing, active users. */
  activeUsers(ids: readonly string[]): Promise<ReadonlySet<string>>;
  /** The most recently updated approved and pending items, at most `limit`. */
  catalog(limit: number): Promise<CatalogEntry[]>;
  importItems(request: MemoryImportRequest): Promise<MemoryImportResult>;
}

/** The token is missing or refused, or its account may not run the collector: exit code 3. */
export class CollectorAccountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CollectorAccountError';
  }
}

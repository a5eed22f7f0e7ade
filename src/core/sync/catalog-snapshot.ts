import type { Repositories } from '../state/repositories/index.js';
import { type PreparedTable, prepareManifestTables } from './manifest.js';

/** The manifest's table entries as of one catalog revision. */
export interface CatalogSnapshot {
  manifestTables: readonly PreparedTable[];
}

/**
 * What every manifest request would otherwise read and serialise again — all `sync_state` rows
 * and the registry — loaded once per catalog revision (a counter the database bumps on every write
 * to either table, from any process). Only the user's grants and settings are read per request.
 */
export class CatalogSnapshots {
  readonly #repos: Pick<Repositories, 'revisions' | 'registry' | 'syncState'>;
  #revision: number | null = null;
  #snapshot: Promise<CatalogSnapshot> | null = null;

  constructor(repos: Pick<Repositories, 'revisions' | 'registry' | 'syncState'>) {
    this.#repos = repos;
  }

  async current(): Promise<CatalogSnapshot> {
    const revision = await this.#repos.revisions.catalog();
    if (revision !== this.#revision || this.#snapshot === null) {
      this.#revision = revision;
      // Loaded after the revision was read: a write in between makes the snapshot newer than its
      // key, never older, and the next request reloads.
      const loading = this.#load();
      this.#snapshot = loading;
      loading.catch(() => {
        if (this.#snapshot === loading) this.#snapshot = null;
      });
    }
    return this.#snapshot;
  }

  async #load(): Promise<CatalogSnapshot> {
    const [states, registry] = await Promise.all([
      this.#repos.syncState.listStates(),
      this.#repos.registry.list(),
    ]);
    return {
      manifestTables: prepareManifestTables(states, new Map(registry.map((r) => [r.id, r]))),
    };
  }
}

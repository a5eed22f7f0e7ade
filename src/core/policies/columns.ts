import { describeParquet } from '../catalog/columns.js';
import type { ViewMapRow } from '../orchestrator/view-map.js';
import { PublishedViews } from '../query/published-views.js';
import type { ProfilesRepository } from '../state/repositories/index.js';
import type { TableColumn } from './types.js';

const CACHED_TABLES = 1_000;

/** What identifies a published table's content: its hash, or its files when it has none. */
function contentKey(view: ViewMapRow): string {
  const content = view.hash ?? JSON.stringify(view.files.map((f) => [f.path, f.size, f.mtime_ns]));
  return `${view.table_id}\u0000${content}`;
}

/**
 * The current columns of published tables (12 §2: what filters and masks are checked and bound
 * against), as the sandboxes read them: a local table's from the Parquet footers of its files in
 * the published generation, kept per content hash (files with one hash have one schema); a remote
 * table's from its profile, as no credentials are used here. A table that is not published has
 * none.
 */
export class PublishedColumns {
  readonly #dataDir: string;
  readonly #published: PublishedViews;
  readonly #profiles: Pick<ProfilesRepository, 'get'>;
  readonly #described = new Map<string, Promise<TableColumn[]>>();

  constructor(options: {
    dataDir: string;
    analyticsPath: string;
    profiles: Pick<ProfilesRepository, 'get'>;
  }) {
    this.#dataDir = options.dataDir;
    this.#published = new PublishedViews(options.analyticsPath);
    this.#profiles = options.profiles;
  }

  async columnsOf(tableId: string): Promise<TableColumn[]> {
    const view = (await this.#published.current()).views.get(tableId.toLowerCase());
    if (!view) return [];
    if (view.query_mode === 'remote') return this.#profiled(tableId);
    if (view.files.length === 0) return [];
    return [...(await this.#describe(view))];
  }

  async #profiled(tableId: string): Promise<TableColumn[]> {
    const profile = await this.#profiles.get(tableId);
    const columns = (profile?.profile.columns ?? []) as { name: string; type: string }[];
    return columns.map(({ name, type }) => ({ name, type }));
  }

  #describe(view: ViewMapRow): Promise<TableColumn[]> {
    const key = contentKey(view);
    let described = this.#described.get(key);
    if (!described) {
      described = describeParquet(this.#dataDir, view.files).then((columns) => {
        // Unreadable (replaced by a rebuild meanwhile): refusing is safe, failing a policy is not.
        if (!columns) throw new Error(`the published files of ${view.table_id} could not be read`);
        return Object.freeze(columns) as TableColumn[];
      });
      this.#described.set(key, described);
      described.catch(() => {
        if (this.#described.get(key) === described) this.#described.delete(key);
      });
      if (this.#described.size > CACHED_TABLES)
        this.#described.delete(this.#described.keys().next().value as string);
    }
    return described;
  }
}

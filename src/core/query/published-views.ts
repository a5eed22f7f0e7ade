import { stat } from 'node:fs/promises';
import { openDuck } from '../duckdb/engine.js';
import { quoteLiteral } from '../duckdb/sql.js';
import {
  type BuildInfo,
  type RemoteAttachRecord,
  readBuildInfo,
  readViewMap,
  type ViewMapRow,
} from '../orchestrator/view-map.js';

/** One published generation as the sandboxes need it (02 §3 analytics database). */
export interface PublishedGeneration {
  /** `dev:ino:mtime_ns:size` of `server.duckdb`, or `missing`. */
  identity: string;
  generation: number;
  /** By table id (lower case). */
  views: ReadonlyMap<string, ViewMapRow>;
  /** Remote catalogs by alias. */
  remotes: ReadonlyMap<string, RemoteAttachRecord>;
}

const EMPTY = (identity: string): PublishedGeneration => ({
  identity,
  generation: 0,
  views: new Map(),
  remotes: new Map(),
});

async function identityOf(path: string): Promise<string> {
  const info = await stat(path, { bigint: true }).catch(() => null);
  return info ? `${info.dev}:${info.ino}:${info.mtimeNs}:${info.size}` : 'missing';
}

/**
 * The published view map, read again only when `analytics/server.duckdb` changes identity: one
 * `stat` per query. The orchestrator renames each new generation into place, so any publication,
 * by this process or another, changes the inode. A file replaced while it was being read is read
 * again, so a snapshot always describes exactly one generation.
 */
export class PublishedViews {
  readonly #path: string;
  #current: PublishedGeneration | null = null;
  #loading: Promise<PublishedGeneration> | null = null;

  constructor(analyticsPath: string) {
    this.#path = analyticsPath;
  }

  /** The generation `current()` returned last, without looking at the file. */
  get last(): PublishedGeneration | null {
    return this.#current;
  }

  async current(): Promise<PublishedGeneration> {
    const identity = await identityOf(this.#path);
    if (this.#current?.identity === identity) return this.#current;
    this.#loading ??= this.#load().finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  async #load(): Promise<PublishedGeneration> {
    for (let attempt = 0; ; attempt++) {
      const before = await identityOf(this.#path);
      if (before === 'missing') return this.#keep(EMPTY(before));
      const read = await this.#read().catch(() => null);
      const after = await identityOf(this.#path);
      if (before === after && read) {
        return this.#keep({
          identity: before,
          generation: read.build.generation,
          views: new Map(read.views.map((v) => [v.table_id, v])),
          remotes: new Map(read.build.remote_attach.map((r) => [r.alias, r])),
        });
      }
      // Replaced while being read (or unreadable for a moment): read the new file.
      if (attempt >= 20) throw new Error('the analytics database could not be read');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  #keep(generation: PublishedGeneration): PublishedGeneration {
    this.#current = generation;
    return generation;
  }

  async #read(): Promise<{ build: BuildInfo; views: ViewMapRow[] }> {
    const duck = await openDuck();
    try {
      await duck.conn.run(`ATTACH ${quoteLiteral(this.#path)} AS published (READ_ONLY)`);
      const build = await readBuildInfo(duck.conn, 'published');
      if (!build) throw new Error('the analytics database has no build record');
      return { build, views: await readViewMap(duck.conn, 'published') };
    } finally {
      duck.close();
    }
  }
}

import { stat } from 'node:fs/promises';

/**
 * The published generation, read again only when `analytics/server.duckdb` changes identity (02 §3:
 * one `stat` per request; the orchestrator renames a new file into place, so any publication —
 * by this process or another — changes inode or mtime).
 */
export class GenerationTracker {
  readonly #path: string;
  readonly #read: () => Promise<number>;
  #identity: string | null = null;
  #generation = 0;

  constructor(analyticsPath: string, read: () => Promise<number>) {
    this.#path = analyticsPath;
    this.#read = read;
  }

  async current(): Promise<number> {
    const info = await stat(this.#path, { bigint: true }).catch(() => null);
    const identity = info ? `${info.dev}:${info.ino}:${info.mtimeNs}:${info.size}` : 'missing';
    if (identity !== this.#identity) {
      this.#generation = info ? await this.#read() : 0;
      this.#identity = identity;
    }
    return this.#generation;
  }
}

import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DIR_MODE, writeFileAtomic } from '../../core/fs/atomic.js';

/**
 * `services/corporate-memory/cursor.json` (08 §4.1 step 2, §4.3): per input file the SHA-256 of
 * the content last completed, and how often the current content failed in a row. A file whose
 * content failed three runs in a row waits until its content changes.
 */
export interface CursorEntry {
  sha256: string | null;
  failed_sha256?: string;
  failures?: number;
}

export const MAX_FAILURES = 3;

export type CursorDecision = 'unchanged' | 'gave_up' | 'process';

export class Cursor {
  readonly #path: string;
  readonly #entries: Map<string, CursorEntry>;

  private constructor(path: string, entries: Map<string, CursorEntry>) {
    this.#path = path;
    this.#entries = entries;
  }

  /** An unreadable or corrupt cursor starts empty: everything is processed again, deduplicated by the server. */
  static async load(path: string): Promise<Cursor> {
    let entries = new Map<string, CursorEntry>();
    try {
      const parsed = JSON.parse(await readFile(path, 'utf8')) as { files?: Record<string, CursorEntry> };
      if (parsed && typeof parsed.files === 'object' && parsed.files !== null)
        entries = new Map(Object.entries(parsed.files));
    } catch {
      entries = new Map();
    }
    return new Cursor(path, entries);
  }

  decide(key: string, sha256: string): CursorDecision {
    const entry = this.#entries.get(key);
    if (entry?.sha256 === sha256) return 'unchanged';
    if (entry?.failed_sha256 === sha256 && (entry.failures ?? 0) >= MAX_FAILURES) return 'gave_up';
    return 'process';
  }

  completed(key: string, sha256: string): void {
    this.#entries.set(key, { sha256 });
  }

  failed(key: string, sha256: string): void {
    const entry = this.#entries.get(key) ?? { sha256: null };
    const failures = entry.failed_sha256 === sha256 ? (entry.failures ?? 0) + 1 : 1;
    this.#entries.set(key, { sha256: entry.sha256, failed_sha256: sha256, failures });
  }

  /** Forgets files no longer among the inputs (deleted by retention, or of deactivated users). */
  retainOnly(keys: ReadonlySet<string>): boolean {
    let removed = false;
    for (const key of this.#entries.keys()) {
      if (!keys.has(key)) removed = this.#entries.delete(key) || removed;
    }
    return removed;
  }

  async save(): Promise<void> {
    await mkdir(dirname(this.#path), { recursive: true, mode: DIR_MODE });
    await writeFileAtomic(this.#path, `${JSON.stringify({ files: Object.fromEntries(this.#entries) })}\n`);
  }
}

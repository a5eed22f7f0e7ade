import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { eachLimited } from '../../core/each-limited.js';
import { fsyncDir, tempPathFor, writeSyncedFile } from '../../core/fs/atomic.js';
import { ensureDir, isObject, readNoFollow } from './files.js';
import { isAttachmentId, isIssueKey } from './names.js';
import type { RawIssue } from './transform.js';

/** Raw documents written at once. */
const WRITE_CONCURRENCY = 4;

/**
 * The raw store (07 §5.2): the latest full document of every issue in `jira/raw/issues/<KEY>.json`,
 * written atomically, and downloaded attachments in `jira/raw/attachments/<KEY>/<id>`. Keys are
 * validated before they become a path.
 */
export class RawStore {
  readonly issuesDir: string;
  readonly attachmentsDir: string;
  /** Writes of one document run one after another (the worker and the SLA poll share the store). */
  readonly #writing = new Map<string, Promise<unknown>>();

  constructor(jiraDir: string) {
    this.issuesDir = join(jiraDir, 'raw', 'issues');
    this.attachmentsDir = join(jiraDir, 'raw', 'attachments');
  }

  #path(key: string): string {
    if (!isIssueKey(key)) throw new Error('not an issue key');
    return join(this.issuesDir, `${key}.json`);
  }

  async read(key: string): Promise<RawIssue | null> {
    const text = await readNoFollow(this.#path(key));
    if (text === null) return null;
    const doc = JSON.parse(text) as unknown;
    if (!isObject(doc) || doc.key !== key || !isObject(doc.fields))
      throw new Error(`raw document ${key} is damaged`);
    return {
      ...doc,
      key,
      id: String(doc.id ?? ''),
      fields: doc.fields,
      _synced_at: String(doc._synced_at ?? ''),
      _comments: Array.isArray(doc._comments) ? doc._comments : [],
      _changelog: Array.isArray(doc._changelog) ? doc._changelog : [],
      _remote_links: Array.isArray(doc._remote_links) ? doc._remote_links : [],
    } as RawIssue;
  }

  /**
   * Writes documents, each through a fsynced temp file and a rename, all at once, then fsyncs the
   * directory once: a batch costs about one fsync instead of two per document.
   */
  async writeMany(docs: readonly RawIssue[]): Promise<void> {
    await ensureDir(this.issuesDir);
    // Bounded, so a group of a thousand documents leaves the thread pool to the webhook intake's fsyncs.
    await eachLimited(docs, WRITE_CONCURRENCY, (doc) => this.#turn(doc.key, async () => this.#put(doc)));
    if (docs.length > 0) await fsyncDir(this.issuesDir);
  }

  /**
   * Reads, changes and writes one document in its key's turn, so a change computed from an older
   * read cannot overwrite a newer write. `change` returning null leaves the document as it is.
   */
  update(key: string, change: (current: RawIssue | null) => RawIssue | null): Promise<RawIssue | null> {
    return this.#turn(key, async () => {
      const updated = change(await this.read(key).catch(() => null));
      if (!updated) return null;
      await ensureDir(this.issuesDir);
      await this.#put(updated);
      await fsyncDir(this.issuesDir);
      return updated;
    });
  }

  async #put(doc: RawIssue): Promise<void> {
    const path = this.#path(doc.key);
    const temp = tempPathFor(path);
    try {
      await writeSyncedFile(temp, JSON.stringify(doc));
      await rename(temp, path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Runs `work` after every earlier write of `key` (writes of one document never interleave). */
  #turn<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#writing.get(key) ?? Promise.resolve();
    const next = previous.then(work);
    const settled = next.catch(() => undefined);
    this.#writing.set(key, settled);
    void settled.then(() => {
      if (this.#writing.get(key) === settled) this.#writing.delete(key);
    });
    return next;
  }

  /** Every key with a raw document, sorted. */
  async keys(): Promise<string[]> {
    const names = await readdir(this.issuesDir).catch(() => [] as string[]);
    return names
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -5))
      .filter(isIssueKey)
      .sort();
  }

  attachmentDir(key: string): string {
    if (!isIssueKey(key)) throw new Error('not an issue key');
    return join(this.attachmentsDir, key);
  }

  attachmentPath(key: string, id: string): string {
    if (!isAttachmentId(id)) throw new Error('not an attachment id');
    return join(this.attachmentDir(key), id);
  }

  async removeAttachments(key: string): Promise<void> {
    await rm(this.attachmentDir(key), { recursive: true, force: true });
  }

  /**
   * Removes the documents of issues deleted longer than `retentionDays` ago (and their
   * attachments); returns how many.
   */
  async pruneDeleted(retentionDays: number, now: number = Date.now()): Promise<number> {
    const cutoff = now - retentionDays * 86_400_000;
    let pruned = 0;
    for (const key of await this.keys()) {
      const doc = await this.read(key).catch(() => null);
      const deletedAt = doc?._deleted_at ? Date.parse(doc._deleted_at) : Number.NaN;
      if (!(deletedAt < cutoff)) continue;
      await rm(this.#path(key), { force: true });
      await this.removeAttachments(key);
      pruned += 1;
    }
    return pruned;
  }
}

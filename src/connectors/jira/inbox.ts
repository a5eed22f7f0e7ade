import { randomUUID } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { eachLimited } from '../../core/each-limited.js';
import { fsyncDir, writeFileAtomic, writeSyncedFile } from '../../core/fs/atomic.js';
import { compactTime, ensureDir, isObject, readNoFollow } from './files.js';

/**
 * The durable queue of verified webhook events (07 §5.1, §5.7): one JSON file per event in
 * `jira/inbox/`, named `<received_at>-<event_id>.json` (never payload data), written through a
 * fsynced temp file and a fsynced directory before the webhook answers. Processed events move to
 * `jira/raw/events/<YYYY-MM-DD>/`; events that failed five times to `jira/failed/` with an `.error`.
 */

export interface InboxEvent {
  event_id: string;
  received_at: string;
  event: string;
  /** The issue key, or null when the event names its issues only by numeric id. */
  issue_key: string | null;
  issue_ids: string[];
  payload: unknown;
}

/** An event as the worker sees it: its file name and content. */
export interface QueuedEvent extends InboxEvent {
  file: string;
}

export interface FailureRecord {
  attempts: number;
  last_error_code: string;
  last_attempt_at: string;
}

/** An unreadable event file younger than this may still be being written by another replica. */
const WRITING_GRACE_MS = 30_000;
/** Most event text (characters) kept in memory for the worker (a burst of large events falls back to the files). */
const RECENT_CHARS = 32 * 1024 * 1024;
/** Processed events moved at once: few, so the webhook intake's writes are not queued behind them. */
const MOVE_CONCURRENCY = 4;

const EVENT_FILE = /^(\d{8}T\d{9}Z)-([0-9a-f-]{36})\.json$/;

export function isEventFile(name: string): boolean {
  return EVENT_FILE.test(name);
}

/** `20240401T123045123Z-…json` → `2024-04-01`. */
function dayOf(file: string): string {
  return `${file.slice(0, 4)}-${file.slice(4, 6)}-${file.slice(6, 8)}`;
}

/**
 * fsync of one directory shared by concurrent callers (group commit): `sync()` resolves after an
 * fsync that started after the call, so every rename before it is durable, and a burst of
 * appends costs a few directory fsyncs instead of one each.
 */
class DirectorySync {
  readonly #dir: string;
  #running: Promise<void> | null = null;
  #queued: Promise<void> | null = null;

  constructor(dir: string) {
    this.#dir = dir;
  }

  sync(): Promise<void> {
    if (!this.#running) return this.#start();
    this.#queued ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = null;
        return this.#start();
      });
    return this.#queued;
  }

  #start(): Promise<void> {
    const running = fsyncDir(this.#dir).finally(() => {
      if (this.#running === running) this.#running = null;
    });
    this.#running = running;
    return running;
  }
}

export class Inbox {
  readonly dir: string;
  readonly processedDir: string;
  readonly failedDir: string;
  /** The last `received_at` handed out: kept strictly increasing so file names keep arrival order. */
  #lastReceived = 0;
  readonly #dirSync: DirectorySync;
  #inboxReady: Promise<void> | null = null;
  /** Files being written by `append`: not complete yet, so not listed. */
  readonly #appending = new Set<string>();
  /**
   * The content of events this process stored and the worker has not taken out yet, up to
   * `RECENT_CHARS`: the worker reads them from here instead of through the thread pool that the
   * webhook intake's writes are waiting on. The files stay the truth (listing, restarts).
   */
  readonly #recent = new Map<string, string>();
  #recentChars = 0;

  constructor(jiraDir: string) {
    this.dir = join(jiraDir, 'inbox');
    this.processedDir = join(jiraDir, 'raw', 'events');
    this.failedDir = join(jiraDir, 'failed');
    this.#dirSync = new DirectorySync(this.dir);
  }

  /** A new event's id and arrival time, later than any handed out before in this process. */
  stamp(now: number = Date.now()): { event_id: string; received_at: string } {
    this.#lastReceived = Math.max(now, this.#lastReceived + 1);
    return { event_id: randomUUID(), received_at: new Date(this.#lastReceived).toISOString() };
  }

  /**
   * Stores an event durably before the webhook answers: the file created under its final name and
   * written and fsynced through one handle while the directory is fsynced (an fsync shared with
   * concurrent appends). No temp file and rename: the rename needed a journal commit of its own
   * after the file's, so every event waited for two; the worker leaves a file alone while it is
   * written.
   * A crash mid-write leaves a file that was never acknowledged, which the worker moves to
   * `failed/` as damaged.
   */
  async append(event: InboxEvent): Promise<string> {
    const file = `${compactTime(event.received_at)}-${event.event_id}.json`;
    const path = join(this.dir, file);
    const data = JSON.stringify(event);
    const write = () => writeSyncedFile(path, data, { created: () => this.#dirSync.sync() });
    this.#appending.add(file);
    try {
      await this.#ensureInbox();
      await write().catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        // The directory went away while the app ran: made again, once.
        this.#inboxReady = null;
        await this.#ensureInbox();
        await write();
      });
    } finally {
      this.#appending.delete(file);
    }
    if (this.#recentChars + data.length <= RECENT_CHARS) {
      this.#recent.set(file, data);
      this.#recentChars += data.length;
    }
    return file;
  }

  /** The inbox directory made once, not on every append (one thread-pool hop less per event). */
  #ensureInbox(): Promise<void> {
    this.#inboxReady ??= ensureDir(this.dir).catch((error: unknown) => {
      this.#inboxReady = null;
      throw error;
    });
    return this.#inboxReady;
  }

  #forget(file: string): void {
    const text = this.#recent.get(file);
    if (text === undefined) return;
    this.#recent.delete(file);
    this.#recentChars -= text.length;
  }

  /** Event files waiting, oldest first (not those still being written). */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((name) => isEventFile(name) && !this.#appending.has(name)).sort();
  }

  async read(file: string): Promise<QueuedEvent | null> {
    if (!isEventFile(file)) return null;
    const path = join(this.dir, file);
    const text = this.#recent.get(file) ?? (await readNoFollow(path));
    if (text === null) return null;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      // Files are created under their final name, so another replica's intake may still be
      // writing this one (this process leaves out only its own): damaged only once it is old.
      const info = await stat(path).catch(() => null);
      if (info && Date.now() - info.mtimeMs < WRITING_GRACE_MS) return null;
      throw error;
    }
    if (!isObject(parsed) || typeof parsed.event !== 'string') throw new Error('inbox event is damaged');
    return {
      file,
      event_id: String(parsed.event_id ?? ''),
      received_at: String(parsed.received_at ?? ''),
      event: parsed.event,
      issue_key: typeof parsed.issue_key === 'string' ? parsed.issue_key : null,
      issue_ids: Array.isArray(parsed.issue_ids) ? parsed.issue_ids.map(String) : [],
      payload: parsed.payload ?? null,
    };
  }

  /**
   * Moves processed events to `raw/events/<day>/`, a few renames at once (a group holds up to a
   * thousand); each directory is fsynced once.
   */
  async complete(files: readonly string[]): Promise<void> {
    const moving = files.filter(isEventFile);
    for (const file of moving) this.#forget(file);
    const targets = new Set(moving.map((file) => join(this.processedDir, dayOf(file))));
    for (const target of targets) await ensureDir(target);
    await eachLimited(moving, MOVE_CONCURRENCY, async (file) => {
      await rename(join(this.dir, file), join(this.processedDir, dayOf(file), file)).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        },
      );
    });
    for (const dir of [...targets, this.dir]) if (files.length > 0) await fsyncDir(dir);
  }

  /** Moves an event that failed for good to `failed/`, with `<stem>.error` beside it. */
  async fail(file: string, record: FailureRecord): Promise<void> {
    if (!isEventFile(file)) return;
    this.#forget(file);
    await ensureDir(this.failedDir);
    await writeFileAtomic(join(this.failedDir, `${file.slice(0, -5)}.error`), JSON.stringify(record));
    await rename(join(this.dir, file), join(this.failedDir, file));
    await fsyncDir(this.failedDir);
    await fsyncDir(this.dir);
  }

  async failedCount(): Promise<number> {
    const names = await readdir(this.failedDir).catch(() => [] as string[]);
    return names.filter(isEventFile).length;
  }

  /** The newest arrival time among waiting and processed events (for the status page). */
  async lastEventAt(): Promise<string | null> {
    const waiting = (await this.list()).at(-1);
    const days = (await readdir(this.processedDir).catch(() => [] as string[])).sort();
    const lastDay = days.at(-1);
    const processed = lastDay
      ? (await readdir(join(this.processedDir, lastDay)).catch(() => [] as string[]))
          .filter(isEventFile)
          .sort()
          .at(-1)
      : undefined;
    const newest = [waiting, processed]
      .filter((f): f is string => f !== undefined)
      .sort()
      .at(-1);
    return newest ? fromCompact(newest.slice(0, 19)) : null;
  }

  /** When the newest processed event was moved out of the inbox. */
  async lastProcessedAt(): Promise<string | null> {
    const days = (await readdir(this.processedDir).catch(() => [] as string[])).sort();
    const lastDay = days.at(-1);
    if (!lastDay) return null;
    const info = await stat(join(this.processedDir, lastDay)).catch(() => null);
    return info ? info.mtime.toISOString() : null;
  }

  /** Removes processed events older than `retentionDays`; returns how many. */
  async prune(retentionDays: number, now: number = Date.now()): Promise<number> {
    const cutoff = new Date(now - retentionDays * 86_400_000).toISOString().slice(0, 10);
    let pruned = 0;
    for (const day of await readdir(this.processedDir).catch(() => [] as string[])) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || day >= cutoff) continue;
      const dir = join(this.processedDir, day);
      pruned += (await readdir(dir).catch(() => [] as string[])).filter(isEventFile).length;
      await rm(dir, { recursive: true, force: true });
    }
    return pruned;
  }
}

/** `20240401T123045123Z` → `2024-04-01T12:30:45.123Z`. */
function fromCompact(compact: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/.exec(compact);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7]}Z` : compact;
}

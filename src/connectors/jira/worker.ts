import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/jobs/logger.js';
import type { JiraEventAttempt, JiraEventsRepository } from '../../core/state/repositories/index.js';
import { JiraError } from './client.js';
import type { TransformSettings } from './config.js';
import { fetchIssue, type IssueFetcher, syncAttachments } from './fetch-issue.js';
import type { Inbox, QueuedEvent } from './inbox.js';
import type { RawStore } from './raw-store.js';
import { type ShardChange, writeShards } from './shards.js';
import type { Column, Entity } from './tables.js';
import { type IssueRows, type RawIssue, transformIssue } from './transform.js';

/**
 * The one worker that drains `jira/inbox/` (07 §5.2, §5.7): batches of up to 100 events, coalesced
 * per issue in arrival order, one fetch per issue, then the raw documents, then the shards of the
 * touched months, and only then are the events moved out of the inbox. A crash anywhere before
 * that move replays the batch, which is harmless: the worker always writes the issue's current
 * state, and a shard rewrite replaces an issue's rows instead of adding to them.
 */

/** Events that re-transform an issue from its raw document without a fetch (07 §5.5). */
export const RETRANSFORM_EVENTS: ReadonlySet<string> = new Set(['agnes:sla_refresh', 'agnes:retransform']);
/** Events after which a 404 deletes the issue (07 §5.7: deletes are confirmed). */
const DELETE_EVENTS: ReadonlySet<string> = new Set(['jira:issue_deleted', 'agnes:issue_gone']);

const MAX_ATTEMPTS = 5;
const MAX_DELAY_MS = 60_000;

export interface WorkerOptions {
  inbox: Inbox;
  raw: RawStore;
  fetcher: IssueFetcher;
  extractDir: string;
  transform: TransformSettings;
  columns: Record<Entity, Column[]>;
  attempts: JiraEventsRepository;
  retryBaseMs: number;
  /** Called after the shards changed (the publisher debounces the rebuild). */
  changed(): void;
  log: Logger;
  batchSize?: number;
  /** Issues fetched at once. */
  concurrency?: number;
  now?: () => number;
}

export interface BatchReport {
  /** Events taken from the inbox. */
  taken: number;
  completed: number;
  failed: number;
  /** When the earliest deferred event is due (ms since the epoch), or null when none waits. */
  nextDueAt: number | null;
}

type Target = { key: string } | { id: string };

type Outcome =
  | { kind: 'upsert'; doc: RawIssue }
  | { kind: 'delete'; key: string }
  | { kind: 'retransform'; key: string }
  | { kind: 'failed'; code: string; retryAfterMs: number | null };

interface Group {
  target: Target;
  events: QueuedEvent[];
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function newer(a: unknown, b: unknown): boolean {
  const [ta, tb] = [Date.parse(String(a ?? '')), Date.parse(String(b ?? ''))];
  return Number.isFinite(ta) && Number.isFinite(tb) && ta > tb;
}

/** Coalesces events per issue, in arrival order; an id-only event joins the group of each id it names. */
function coalesce(events: readonly QueuedEvent[]): Group[] {
  const groups = new Map<string, Group>();
  for (const event of events) {
    const targets: Target[] = event.issue_key
      ? [{ key: event.issue_key }]
      : event.issue_ids.map((id) => ({ id }));
    for (const target of targets) {
      const name = 'key' in target ? `k:${target.key}` : `i:${target.id}`;
      const group = groups.get(name) ?? { target, events: [] };
      group.events.push(event);
      groups.set(name, group);
    }
  }
  return [...groups.values()];
}

export class JiraWorker {
  readonly #o: WorkerOptions;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #woken = false;
  /** One batch at a time: the loop, a job draining the queue and a test share it. */
  #batch: Promise<BatchReport> = Promise.resolve({ taken: 0, completed: 0, failed: 0, nextDueAt: null });

  constructor(options: WorkerOptions) {
    this.#o = options;
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }

  /** Starts draining, from whatever the inbox holds (events survive a restart). */
  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
  }

  /** Stops after the batch in flight; events not yet moved stay in the inbox. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
  }

  /** A new event is in the inbox. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      this.#woken = false;
      let report: BatchReport;
      try {
        report = await this.processBatch();
      } catch (error) {
        this.#o.log.error({ err: errorMessage(error) }, 'jira worker batch failed');
        report = { taken: 0, completed: 0, failed: 0, nextDueAt: this.#now() + 1000 };
      }
      if (report.taken > 0 || this.#stopping || this.#woken) continue;
      const wait = report.nextDueAt === null ? null : Math.max(0, report.nextDueAt - this.#now());
      await new Promise<void>((resolve) => {
        const timer = wait === null ? null : setTimeout(resolve, wait);
        this.#wake = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  /** Processes one batch (after any batch in flight). */
  processBatch(): Promise<BatchReport> {
    const next = this.#batch.then(
      () => this.#processBatch(),
      () => this.#processBatch(),
    );
    this.#batch = next;
    return next;
  }

  /** Runs batches until nothing is ready (deferred events may remain). */
  async drain(): Promise<void> {
    while ((await this.processBatch()).taken > 0);
  }

  async #processBatch(): Promise<BatchReport> {
    const { inbox, attempts } = this.#o;
    const now = this.#now();
    const files = await inbox.list();
    const known = await attempts.get(files.map(eventIdOf));
    let nextDueAt: number | null = null;
    const ready: string[] = [];
    for (const file of files) {
      const due = Date.parse(known.get(eventIdOf(file))?.next_attempt_at ?? '');
      if (due > now) nextDueAt = Math.min(nextDueAt ?? due, due);
      else if (ready.length < (this.#o.batchSize ?? 100)) ready.push(file);
    }
    const events: QueuedEvent[] = [];
    for (const file of ready) {
      try {
        const event = await inbox.read(file);
        if (event) events.push(event);
      } catch {
        await this.#fail([{ file, event_id: eventIdOf(file) }], 'damaged_event', null, known, true);
      }
    }
    if (events.length === 0) return { taken: 0, completed: 0, failed: 0, nextDueAt };

    const outcomes = new Map<Group, Outcome>();
    const stamp = new Date(now).toISOString();
    await eachLimited(coalesce(events), this.#o.concurrency ?? 4, async (group) => {
      outcomes.set(group, await this.#resolve(group, stamp));
    });

    const failedEvents = new Map<string, { event: QueuedEvent; outcome: Outcome & { kind: 'failed' } }>();
    for (const [group, outcome] of outcomes)
      if (outcome.kind === 'failed')
        for (const event of group.events) failedEvents.set(event.file, { event, outcome });
    try {
      const change = await this.#apply([...outcomes.values()], stamp);
      if (change.upserts.length > 0 || change.removed.length > 0) {
        await writeShards(this.#o.extractDir, this.#o.columns, change, { now: stamp });
        this.#o.changed();
      }
    } catch (error) {
      this.#o.log.error({ err: errorMessage(error) }, 'jira batch could not be published');
      const outcome = { kind: 'failed' as const, code: 'publish_failed', retryAfterMs: null };
      for (const event of events) failedEvents.set(event.file, { event, outcome });
    }
    const done = events.filter((e) => !failedEvents.has(e.file));
    await inbox.complete(done.map((e) => e.file));
    await attempts.forget(done.map((e) => e.event_id).filter((id) => known.has(id)));
    for (const { event, outcome } of failedEvents.values())
      await this.#fail([event], outcome.code, outcome.retryAfterMs, known, false);
    return { taken: events.length, completed: done.length, failed: failedEvents.size, nextDueAt };
  }

  /** What one coalesced issue comes to: one GET decides between upsert, delete and failure. */
  async #resolve(group: Group, stamp: string): Promise<Outcome> {
    const names = group.events.map((e) => e.event);
    const fetching = names.filter((n) => !RETRANSFORM_EVENTS.has(n));
    if (fetching.length === 0 && 'key' in group.target) return { kind: 'retransform', key: group.target.key };
    const keyOrId = 'key' in group.target ? group.target.key : group.target.id;
    try {
      const doc = await fetchIssue(this.#o.fetcher, keyOrId, stamp);
      const previous = await this.#o.raw.read(doc.key).catch(() => null);
      // An answer older than what is stored (a replica lagging behind) must not take the issue back.
      if (previous && !previous._deleted_at && newer(previous.fields.updated, doc.fields.updated))
        return { kind: 'retransform', key: doc.key };
      doc._local_attachments = await syncAttachments(this.#o.fetcher, doc);
      return { kind: 'upsert', doc };
    } catch (error) {
      if (error instanceof JiraError && error.code === 'not_found') {
        const last = fetching.at(-1) ?? '';
        if (DELETE_EVENTS.has(last) && 'key' in group.target)
          return { kind: 'delete', key: group.target.key };
        return { kind: 'failed', code: 'not_found', retryAfterMs: null };
      }
      const code = error instanceof JiraError ? error.code : 'fetch_failed';
      if (!(error instanceof JiraError))
        this.#o.log.warn({ err: errorMessage(error) }, 'jira issue fetch failed');
      return { kind: 'failed', code, retryAfterMs: error instanceof JiraError ? error.retryAfterMs : null };
    }
  }

  /** Writes raw documents (deletions keep theirs, marked) and returns the rows to publish. */
  async #apply(outcomes: readonly Outcome[], stamp: string): Promise<ShardChange> {
    const { raw, transform } = this.#o;
    const byKey = new Map<string, Outcome>();
    for (const outcome of outcomes) {
      if (outcome.kind === 'failed') continue;
      byKey.set(outcome.kind === 'upsert' ? outcome.doc.key : outcome.key, outcome);
    }
    const upserts: IssueRows[] = [];
    const removed: string[] = [];
    for (const [key, outcome] of byKey) {
      if (outcome.kind === 'upsert') {
        await raw.write(outcome.doc);
        upserts.push(transformIssue(outcome.doc, transform));
      } else if (outcome.kind === 'delete') {
        await raw.update(key, (previous) =>
          previous && !previous._deleted_at ? { ...previous, _deleted_at: stamp } : null,
        );
        await raw.removeAttachments(key);
        removed.push(key);
      } else {
        const doc = await raw.read(key).catch(() => null);
        if (doc && !doc._deleted_at) upserts.push(transformIssue(doc, transform));
        else removed.push(key);
      }
    }
    return { upserts, removed };
  }

  /** Records a failed attempt; the fifth (or a damaged file) moves the event to `failed/`. */
  async #fail(
    events: readonly Pick<QueuedEvent, 'file' | 'event_id'>[],
    code: string,
    retryAfterMs: number | null,
    known: Map<string, JiraEventAttempt>,
    final: boolean,
  ): Promise<void> {
    const now = this.#now();
    for (const event of events) {
      const attempts = (known.get(event.event_id)?.attempts ?? 0) + 1;
      const lastAttemptAt = new Date(now).toISOString();
      if (final || attempts >= MAX_ATTEMPTS) {
        await this.#o.inbox.fail(event.file, {
          attempts,
          last_error_code: code,
          last_attempt_at: lastAttemptAt,
        });
        await this.#o.attempts.forget([event.event_id]);
        this.#o.log.warn({ event_id: event.event_id, code, attempts }, 'jira event failed for good');
        continue;
      }
      const backoff = Math.min(this.#o.retryBaseMs * 3 ** (attempts - 1), MAX_DELAY_MS);
      const delay = retryAfterMs === null ? backoff : Math.min(retryAfterMs, MAX_DELAY_MS);
      await this.#o.attempts.record({
        event_id: event.event_id,
        attempts,
        next_attempt_at: new Date(now + delay).toISOString(),
        last_error_code: code,
        last_attempt_at: lastAttemptAt,
      });
    }
  }
}

/** `<time>-<uuid>.json` → the uuid (the event id the file carries). */
function eventIdOf(file: string): string {
  return file.slice(20, -5);
}

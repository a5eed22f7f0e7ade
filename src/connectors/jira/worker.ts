import { setImmediate } from 'node:timers/promises';
import { eachLimited } from '../../core/each-limited.js';
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
 * per issue in arrival order, one fetch per issue, then the raw documents and, beside them, the
 * shards of the touched months (for every batch fetched while the previous write ran, at once),
 * and only then are the events moved out of the inbox. A crash anywhere before
 * that move replays the batch, which is harmless: the worker always writes the issue's current
 * state, and a shard rewrite replaces an issue's rows instead of adding to them.
 */

/** Events that re-transform an issue from its raw document without a fetch (07 §5.5). */
const RETRANSFORM_EVENTS: ReadonlySet<string> = new Set(['agnes:sla_refresh', 'agnes:retransform']);
/** Events after which a 404 deletes the issue (07 §5.7: deletes are confirmed). */
const DELETE_EVENTS: ReadonlySet<string> = new Set(['jira:issue_deleted', 'agnes:issue_gone']);

const MAX_ATTEMPTS = 5;
/** Issues transformed before the worker gives the event loop a turn. */
const TRANSFORMS_PER_TURN = 25;
/** Most batches written as one group, and most fetched batches waiting for the writer. */
const MAX_GROUP_BATCHES = 10;
const MAX_DELAY_MS = 60_000;
/** Inbox files read at once. */
const READ_CONCURRENCY = 4;

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
  /**
   * With replicas, events also reach the inbox through other processes' intake, which cannot wake
   * this one: it then looks at least this often. Unset with one process.
   */
  idlePollMs?: number;
  now?: () => number;
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

/** A batch whose issues are fetched, waiting to be written. */
interface Prepared {
  events: QueuedEvent[];
  outcomes: Map<Group, Outcome>;
  known: Map<string, JiraEventAttempt>;
  stamp: string;
  nextDueAt: number | null;
}

export class JiraWorker {
  readonly #o: WorkerOptions;
  #stopping = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #woken = false;
  /** Files of batches taken but not yet written: the next batch leaves them alone. */
  readonly #inFlight = new Set<string>();
  /** Batches fetched and waiting for the writer, oldest first. */
  readonly #queued: Prepared[] = [];
  #draining = false;
  /** The writer; resolved when nothing is being written. */
  #writing: Promise<void> = Promise.resolve();

  constructor(options: WorkerOptions) {
    this.#o = options;
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }

  /** Starts draining, from whatever the inbox holds (events survive a restart); again after a stop. */
  start(): void {
    if (this.#loop) return;
    this.#stopping = false;
    this.#loop = this.#run();
  }

  /** Stops after the batches in flight; events not yet moved stay in the inbox. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.wake();
    await this.#loop;
    await this.#writing;
    this.#loop = null;
  }

  /** A new event is in the inbox. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /**
   * Fetches batches while earlier ones are being written: fetching waits on Jira, writing on
   * DuckDB and the disk, so the two overlap. The writer takes every batch fetched meanwhile as one
   * group (a group commit): a shard rewrite costs about the same for one batch as for ten, so under
   * a backlog the shards are rewritten once per group instead of once per batch, and without a
   * backlog each batch is written alone as soon as it is fetched. Batches are written in the order
   * they were taken, so a later fetch of an issue always wins.
   */
  async #run(): Promise<void> {
    while (!this.#stopping) {
      this.#woken = false;
      let prepared: Prepared | null;
      let nextDueAt: number | null;
      try {
        prepared = await this.#prepare();
        nextDueAt = prepared.nextDueAt;
        if (prepared.events.length === 0) prepared = null;
      } catch (error) {
        this.#o.log.error({ err: errorMessage(error) }, 'jira worker batch failed');
        prepared = null;
        nextDueAt = this.#now() + 1000;
      }
      if (prepared) {
        this.#queued.push(prepared);
        if (!this.#draining) this.#writing = this.#drain();
        // Bounded memory: at most a group's worth of fetched issues wait for the writer.
        while (this.#queued.length >= MAX_GROUP_BATCHES) await this.#writing;
        continue;
      }
      if (this.#stopping || this.#woken) continue;
      // Nothing ready: sleep until a new event, the next retry, or the end of a write in progress
      // (a batch being written may fail and defer events, whose retry time is then known).
      const due = nextDueAt === null ? null : Math.max(0, nextDueAt - this.#now());
      const poll = this.#o.idlePollMs ?? null;
      const wait = due === null ? poll : poll === null ? due : Math.min(due, poll);
      await new Promise<void>((resolve) => {
        const timer = wait === null ? null : setTimeout(resolve, wait);
        const done = () => {
          if (timer) clearTimeout(timer);
          resolve();
        };
        this.#wake = done;
        if (this.#draining) void this.#writing.then(done);
      });
      this.#wake = null;
    }
  }

  /** Writes queued batches, all that are waiting at once, until none are left. */
  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queued.length > 0) {
        const group = this.#queued.splice(0, MAX_GROUP_BATCHES);
        await this.#commit(group).catch((error: unknown) => {
          this.#o.log.error({ err: errorMessage(error) }, 'jira worker batch failed');
        });
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Takes up to a batch of due events and fetches their issues. */
  async #prepare(): Promise<Prepared> {
    const { inbox, attempts } = this.#o;
    const now = this.#now();
    const files = (await inbox.list()).filter((f) => !this.#inFlight.has(f));
    // Under a backlog the inbox lists thousands of files: asking SQLite about each of them (on the
    // event loop, for every batch) held up the webhook intake. Only failed events have a row.
    const pending = await attempts.pending();
    const known = new Map<string, JiraEventAttempt>();
    for (const file of files) {
      const attempt = pending.get(eventIdOf(file));
      if (attempt) known.set(attempt.event_id, attempt);
    }
    let nextDueAt: number | null = null;
    const ready: string[] = [];
    for (const file of files) {
      const due = Date.parse(known.get(eventIdOf(file))?.next_attempt_at ?? '');
      if (due > now) nextDueAt = Math.min(nextDueAt ?? due, due);
      else if (ready.length < (this.#o.batchSize ?? 100)) ready.push(file);
    }
    // Read a few at a time (one after another, each read waits its turn in the thread pool), and
    // kept in arrival order for the coalescing.
    const read: (QueuedEvent | null)[] = new Array(ready.length).fill(null);
    await eachLimited([...ready.keys()], READ_CONCURRENCY, async (index) => {
      const file = ready[index] as string;
      try {
        read[index] = await inbox.read(file);
      } catch {
        await this.#fail([{ file, event_id: eventIdOf(file) }], 'damaged_event', null, known, true);
      }
    });
    const events = read.filter((event): event is QueuedEvent => event !== null);
    for (const event of events) this.#inFlight.add(event.file);
    const outcomes = new Map<Group, Outcome>();
    const stamp = new Date(now).toISOString();
    try {
      await eachLimited(coalesce(events), this.#o.concurrency ?? 8, async (group) => {
        outcomes.set(group, await this.#resolve(group, stamp));
      });
    } catch (error) {
      for (const event of events) this.#inFlight.delete(event.file);
      throw error;
    }
    return { events, outcomes, known, stamp, nextDueAt };
  }

  /**
   * Writes fetched batches: raw documents, then the shards, and only then are their events moved
   * out of the inbox (or their failures recorded).
   */
  async #commit(batches: readonly Prepared[]): Promise<void> {
    const events = batches.flatMap((batch) => batch.events);
    const known = new Map(batches.flatMap((batch) => [...batch.known]));
    const stamp = batches.at(-1)?.stamp ?? new Date(this.#now()).toISOString();
    try {
      const failedEvents = new Map<string, { event: QueuedEvent; outcome: Outcome & { kind: 'failed' } }>();
      const outcomes = batches.flatMap((batch) => [...batch.outcomes]);
      for (const [group, outcome] of outcomes)
        if (outcome.kind === 'failed')
          for (const event of group.events) failedEvents.set(event.file, { event, outcome });
      try {
        const latest = latestPerIssue(outcomes.map(([, outcome]) => outcome));
        const fetched = [...latest.values()].flatMap((o) => (o.kind === 'upsert' ? [o.doc] : []));
        // The raw documents wait on fsyncs, the shards on DuckDB: written side by side, and both
        // are on disk before any event leaves the inbox. They never touch the same issue's document
        // (an issue has one outcome per group).
        const written = await Promise.allSettled([
          this.#o.raw.writeMany(fetched),
          this.#apply(latest, stamp).then(async (change) => {
            if (change.upserts.length === 0 && change.removed.length === 0) return;
            await writeShards(this.#o.extractDir, this.#o.columns, change, { now: stamp });
            this.#o.changed();
          }),
        ]);
        for (const result of written) if (result.status === 'rejected') throw result.reason;
      } catch (error) {
        this.#o.log.error({ err: errorMessage(error) }, 'jira batch could not be published');
        const outcome = { kind: 'failed' as const, code: 'publish_failed', retryAfterMs: null };
        for (const event of events) failedEvents.set(event.file, { event, outcome });
      }
      const done = events.filter((e) => !failedEvents.has(e.file));
      await this.#o.inbox.complete(done.map((e) => e.file));
      await this.#o.attempts.forget(done.map((e) => e.event_id).filter((id) => known.has(id)));
      for (const { event, outcome } of failedEvents.values())
        await this.#fail([event], outcome.code, outcome.retryAfterMs, known, false);
    } finally {
      for (const event of events) this.#inFlight.delete(event.file);
    }
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

  /**
   * The rows to publish: fetched documents transformed, deletions marked in their raw documents,
   * re-transforms read from theirs.
   */
  async #apply(byKey: ReadonlyMap<string, Outcome>, stamp: string): Promise<ShardChange> {
    const { raw, transform } = this.#o;
    const upserts: IssueRows[] = [];
    const removed: string[] = [];
    let transformed = 0;
    for (const [key, outcome] of byKey) {
      // A group holds up to a thousand issues: let the webhook intake in between transforms.
      if (++transformed % TRANSFORMS_PER_TURN === 0) await setImmediate();
      if (outcome.kind === 'upsert') {
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

/** The last outcome of each issue in a group (failures leave their issue out). */
function latestPerIssue(outcomes: readonly Outcome[]): Map<string, Outcome> {
  const byKey = new Map<string, Outcome>();
  for (const outcome of outcomes) {
    if (outcome.kind === 'failed') continue;
    byKey.set(outcome.kind === 'upsert' ? outcome.doc.key : outcome.key, outcome);
  }
  return byKey;
}

/** `<time>-<uuid>.json` → the uuid (the event id the file carries). */
function eventIdOf(file: string): string {
  return file.slice(20, -5);
}

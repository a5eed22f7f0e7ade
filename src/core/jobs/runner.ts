import { errorMessage } from '../errors.js';
import { sanitizeDetail } from '../orchestrator/sanitize.js';
import type { Job, JobOutcome } from '../state/repositories/index.js';
import type { JobKind } from '../state/schema.js';
import { profileTables } from './profile-tables.js';
import { runSyncJob, type SyncJobDeps } from './sync-job.js';

export interface JobRunnerOptions extends SyncJobDeps {
  /** Sync jobs of different sources that may run at once (`sync.parallel_sources`). */
  parallel: number;
  /** This replica's claims on jobs (13 §3). */
  claims: JobClaims;
}

export interface JobClaims {
  /** The replica's `instance_id`, recorded as `claimed_by` on the jobs it runs. */
  instanceId: string;
  /**
   * True when no other process shares the store (SQLite): every job left running at start is then
   * dead. Otherwise only those whose claim went unrenewed for three heartbeats are.
   */
  exclusive: boolean;
  /** How often the claims on running jobs are renewed (`jobs.heartbeat_seconds`). */
  heartbeatMs: number;
}

/** Missed renewals after which a running job's replica counts as dead (13 §3). */
const MISSED_HEARTBEATS = 3;

export interface SyncRequest {
  source: string;
  tables?: string[];
  requestedBy?: string | null;
  fullRefresh?: boolean;
}

export interface ProfileRequest {
  tableId: string;
  requestedBy?: string | null;
}

export interface TaskRequest {
  requestedBy?: string | null;
  /** The task's input; kept in memory, so a task queued before a restart runs with its defaults. */
  params?: unknown;
}

/** The work of a job kind a connector brings (Jira's SLA poll and consistency check, 07 §5.5). */
export type TaskRun = (job: Job, params: unknown, signal: AbortSignal) => Promise<JobOutcome>;

interface Running {
  source: string;
  abort: AbortController;
  done: Promise<void>;
}

/**
 * The in-app job runner (01 §5 process model): sync jobs persisted in `sync_jobs`, at most one per source at a
 * time, `parallel` sources at once, all work off the request path. Requests for a source that
 * already has a queued job merge into it instead of queueing twice. Profile jobs (a forced
 * re-profile of one table, 03 §7 catalog) share the queue but run one at a time, beside the sync slots.
 */
export class JobRunner {
  readonly #deps: JobRunnerOptions;
  readonly #running = new Map<string, Running>();
  readonly #waiters = new Map<string, ((job: Job) => void)[]>();
  readonly #fullRefresh = new Set<string>();
  /** Enqueues run one at a time, so two concurrent requests cannot both queue a job. */
  #enqueueing: Promise<unknown> = Promise.resolve();
  #stopping = false;
  #started = false;
  #pumping: Promise<void> = Promise.resolve();
  /** The profile job being run, if any: profiling is memory-heavy, so one at a time. */
  #profiling: Promise<void> | null = null;
  readonly #tasks = new Map<JobKind, TaskRun>();
  readonly #taskParams = new Map<string, unknown>();
  /** The running job of each task kind: one at a time per kind. */
  readonly #runningTasks = new Map<JobKind, Running>();
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(deps: JobRunnerOptions) {
    this.#deps = deps;
  }

  /**
   * Jobs a dead process left running did not finish; queued ones start now. Every heartbeat the
   * runner renews its claims, interrupts jobs of dead replicas and takes jobs other replicas queued.
   */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const { exclusive, heartbeatMs } = this.#deps.claims;
    if (exclusive) await this.#deps.repos.jobs.markAllRunningInterrupted();
    else await this.#deps.repos.jobs.interruptStale(MISSED_HEARTBEATS * heartbeatMs);
    this.#heartbeat = setInterval(() => {
      this.#beat().catch((error: unknown) => {
        this.#deps.log.error({ err: errorMessage(error) }, 'job runner heartbeat failed');
      });
    }, heartbeatMs);
    this.#heartbeat.unref();
    this.#pump();
  }

  async #beat(): Promise<void> {
    const { instanceId, heartbeatMs } = this.#deps.claims;
    await this.#deps.repos.jobs.heartbeat(instanceId);
    await this.#deps.repos.jobs.interruptStale(MISSED_HEARTBEATS * heartbeatMs);
    // A job another replica ran finishes without this runner's #settle: its waiters are told here.
    for (const jobId of this.#waiters.keys()) {
      const job = await this.#deps.repos.jobs.get(jobId);
      if (job && job.status !== 'queued' && job.status !== 'running') this.#resolveWaiters(job);
    }
    this.#pump();
  }

  #resolveWaiters(job: Job): void {
    for (const resolve of this.#waiters.get(job.id) ?? []) resolve(job);
    this.#waiters.delete(job.id);
  }

  enqueueSync(request: SyncRequest): Promise<Job> {
    const next = this.#enqueueing.then(() => this.#enqueue(request));
    this.#enqueueing = next.catch(() => undefined);
    return next;
  }

  async #enqueue(request: SyncRequest): Promise<Job> {
    const tables = request.tables ?? [];
    const active = await this.#deps.repos.jobs.findActive(request.source);
    const queued = active.find((job) => job.status === 'queued');
    // An empty table list means every table: merging into it changes nothing, merging it widens.
    let job: Job | undefined;
    if (queued)
      job = queued.tables.length === 0 ? queued : await this.#deps.repos.jobs.mergeTables(queued.id, tables);
    job ??= await this.#deps.repos.jobs.create({
      kind: 'sync',
      requested_by: request.requestedBy ?? null,
      source: request.source,
      tables,
    });
    if (request.fullRefresh) this.#fullRefresh.add(job.id);
    this.#pump();
    return job;
  }

  /**
   * Queues a forced profile of one table. A queued (not yet started) profile job of the same
   * table is returned instead of queueing a second one.
   */
  enqueueProfile(request: ProfileRequest): Promise<Job> {
    const next = this.#enqueueing.then(async () => {
      const queued = await this.#deps.repos.jobs.list(
        { status: 'queued', kind: 'profile' },
        { page: 1, per_page: 200 },
      );
      const same = queued.items.find((job) => job.tables.length === 1 && job.tables[0] === request.tableId);
      const job =
        same ??
        (await this.#deps.repos.jobs.create({
          kind: 'profile',
          requested_by: request.requestedBy ?? null,
          source: null,
          tables: [request.tableId],
        }));
      this.#pump();
      return job;
    });
    this.#enqueueing = next.catch(() => undefined);
    return next;
  }

  /** Registers the work of a job kind; before `start()`. */
  addTask(kind: JobKind, run: TaskRun): void {
    if (this.#started) throw new Error(`task ${kind} added after start`);
    if (kind === 'sync' || kind === 'profile' || this.#tasks.has(kind))
      throw new Error(`job kind ${kind} already has its work`);
    this.#tasks.set(kind, run);
  }

  hasTask(kind: JobKind): boolean {
    return this.#tasks.has(kind);
  }

  /** Queues a job of a registered task kind; a job of that kind still queued is returned instead. */
  enqueueTask(kind: JobKind, request: TaskRequest = {}): Promise<Job> {
    if (!this.#tasks.has(kind)) return Promise.reject(new Error(`no work registered for job kind ${kind}`));
    const next = this.#enqueueing.then(async () => {
      const queued = await this.#deps.repos.jobs.list({ status: 'queued', kind }, { page: 1, per_page: 1 });
      let job = queued.items[0];
      if (!job) {
        job = await this.#deps.repos.jobs.create({
          kind,
          requested_by: request.requestedBy ?? null,
          source: null,
          tables: [],
        });
        if (request.params !== undefined) this.#taskParams.set(job.id, request.params);
      }
      this.#pump();
      return job;
    });
    this.#enqueueing = next.catch(() => undefined);
    return next;
  }

  /** Resolves with the job's final row once it has finished. */
  async waitFor(jobId: string): Promise<Job> {
    const current = await this.#deps.repos.jobs.get(jobId);
    if (!current) throw new Error(`job ${jobId} does not exist`);
    if (current.status !== 'queued' && current.status !== 'running') return current;
    return new Promise((resolve) => {
      this.#waiters.set(jobId, [...(this.#waiters.get(jobId) ?? []), resolve]);
    });
  }

  /** Stops taking jobs, kills running extractors and marks their jobs `interrupted`. */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#heartbeat);
    const all = [...this.#running.values(), ...this.#runningTasks.values()];
    for (const running of all) running.abort.abort();
    await Promise.allSettled(all.map((r) => r.done));
    await this.#pumping;
    // Profiling runs in-process and is bounded by the profiler's caps: let it finish.
    await this.#profiling;
    await this.#deps.repos.jobs.interruptClaimedBy(this.#deps.claims.instanceId);
  }

  #pump(): void {
    this.#pumping = this.#pumping
      .then(() => this.#startQueued())
      .catch((error: unknown) => {
        this.#deps.log.error({ err: errorMessage(error) }, 'job runner could not start queued jobs');
      });
  }

  async #startQueued(): Promise<void> {
    if (this.#stopping) return;
    await this.#startProfile();
    await this.#startTasks();
    const { instanceId } = this.#deps.claims;
    while (this.#running.size < this.#deps.parallel) {
      const job = await this.#deps.repos.jobs.claimNext('sync', instanceId);
      if (!job) return;
      if (!job.source) {
        await this.#deps.repos.jobs.finish(job.id, {
          status: 'failed',
          report: null,
          error: 'a sync job needs a source',
        });
        continue;
      }
      const abort = new AbortController();
      const running: Running = { source: job.source, abort, done: Promise.resolve() };
      running.done = this.#run(job, abort.signal).finally(() => {
        this.#running.delete(job.source!);
        this.#pump();
      });
      this.#running.set(job.source, running);
    }
  }

  async #startProfile(): Promise<void> {
    if (this.#profiling) return;
    const oldest = await this.#deps.repos.jobs.claimNext('profile', this.#deps.claims.instanceId);
    if (!oldest) return;
    this.#profiling = this.#runProfile(oldest).finally(() => {
      this.#profiling = null;
      this.#pump();
    });
  }

  async #startTasks(): Promise<void> {
    for (const [kind, run] of this.#tasks) {
      if (this.#runningTasks.has(kind)) continue;
      const oldest = await this.#deps.repos.jobs.claimNext(kind, this.#deps.claims.instanceId);
      if (!oldest) continue;
      const abort = new AbortController();
      const params = this.#taskParams.get(oldest.id);
      this.#taskParams.delete(oldest.id);
      const running: Running = { source: kind, abort, done: Promise.resolve() };
      running.done = this.#settle(
        oldest,
        kind,
        () => run(oldest, params, abort.signal),
        abort.signal,
      ).finally(() => {
        this.#runningTasks.delete(kind);
        this.#pump();
      });
      this.#runningTasks.set(kind, running);
    }
  }

  #runProfile(job: Job): Promise<void> {
    return this.#settle(job, 'profile', async () => {
      const report = await profileTables(this.#deps.profile, job.tables, { force: true });
      if (report.failed.length > 0)
        return {
          status: 'failed',
          report: { ...report },
          error: report.failed[0]?.error ?? 'profiling failed',
        };
      if (report.profiled.length === 0)
        return { status: 'failed', report: { ...report }, error: 'the table has no published local data' };
      return { status: 'succeeded', report: { ...report }, error: null };
    });
  }

  #run(job: Job, signal: AbortSignal): Promise<void> {
    const fullRefresh = this.#fullRefresh.delete(job.id);
    this.#deps.log.info({ job: job.id, source: job.source }, 'sync job started');
    return this.#settle(job, 'sync', () => runSyncJob(this.#deps, job, { fullRefresh, signal }), signal);
  }

  /**
   * Runs one job's work and records its outcome: `interrupted` when shutdown aborted it, `failed`
   * with a sanitised message when it threw. Waiters are told only after the final row is written, so
   * they see it.
   */
  async #settle(
    job: Job,
    kind: string,
    work: () => Promise<JobOutcome>,
    signal?: AbortSignal,
  ): Promise<void> {
    const interrupted: JobOutcome = { status: 'interrupted', report: null, error: 'interrupted by shutdown' };
    let finished: Job | undefined;
    try {
      const outcome = await work();
      finished = await this.#deps.repos.jobs.finish(job.id, signal?.aborted ? interrupted : outcome);
      this.#deps.log.info(
        { job: job.id, source: job.source, tables: job.tables, status: finished?.status },
        `${kind} job finished`,
      );
    } catch (error) {
      if (!signal?.aborted)
        this.#deps.log.error({ job: job.id, err: errorMessage(error) }, `${kind} job failed`);
      finished = await this.#deps.repos.jobs.finish(
        job.id,
        signal?.aborted ? interrupted : { status: 'failed', report: null, error: sanitizeDetail(error) },
      );
    } finally {
      const final = finished ?? (await this.#deps.repos.jobs.get(job.id));
      if (final) this.#resolveWaiters(final);
      else this.#waiters.delete(job.id);
    }
  }
}

import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgnesError, ERROR_STATUS, type ErrorCode, errorMessage, isAgnesError } from '../errors.js';
import type { QueuedRebuild } from '../state/repositories/rebuild-requests.js';
import type { RebuildOutcome } from '../state/schema.js';
import type { RebuildReport } from './report.js';
import type { RebuildFlight, RebuildRequest } from './single-flight.js';

/** The requests table (`RebuildRequestsRepository`). */
export interface RebuildQueue {
  add(request: QueuedRebuild, requestedBy: string): Promise<string>;
  claim(runId: string): Promise<QueuedRebuild[]>;
  finish(runId: string, outcome: RebuildOutcome): Promise<void>;
  outcomes(ids: readonly string[]): Promise<Map<string, RebuildOutcome>>;
}

export interface ClusterFlightOptions {
  queue: RebuildQueue;
  /** Runs `work` holding the cluster's one rebuild lock, or answers null when another replica holds it. */
  exclusive: (work: () => Promise<void>) => Promise<object | null>;
  instanceId: string;
  /** How often a waiting replica looks for its answer and tries the lock. */
  pollMs?: number;
}

interface Waiter {
  resolve: (report: RebuildReport) => void;
  reject: (error: unknown) => void;
}

/**
 * 02 §2.5's single-flight across replicas (13 §3). Each request is a row; whichever replica holds
 * the lock claims every unanswered row in one run and answers them all with its outcome. Rows
 * added while a run is under way wait for the next, so requests arriving together on any replicas
 * cause at most one run and one follow-up. One loop per process polls for its callers' answers
 * and tries the lock when they are not there yet.
 */
export class ClusterFlight implements RebuildFlight<RebuildReport> {
  readonly #options: ClusterFlightOptions;
  readonly #run: (request: RebuildRequest) => Promise<RebuildReport>;
  readonly #waiting = new Map<string, Waiter>();
  #loop: Promise<void> | null = null;
  #runs = 0;

  constructor(options: ClusterFlightOptions, run: (request: RebuildRequest) => Promise<RebuildReport>) {
    this.#options = options;
    this.#run = run;
  }

  get runs(): number {
    return this.#runs;
  }

  async request(request: RebuildRequest): Promise<RebuildReport> {
    const queued: QueuedRebuild =
      request.kind === 'full' ? { kind: 'full', source: null } : { kind: 'source', source: request.source };
    const id = await this.#options.queue.add(queued, this.#options.instanceId);
    const answer = new Promise<RebuildReport>((resolve, reject) =>
      this.#waiting.set(id, { resolve, reject }),
    );
    this.#drive();
    return answer;
  }

  #drive(): void {
    if (this.#loop) return;
    this.#loop = this.#serve().finally(() => {
      this.#loop = null;
      // A request that came in as the loop was ending.
      if (this.#waiting.size > 0) this.#drive();
    });
  }

  async #serve(): Promise<void> {
    try {
      while (this.#waiting.size > 0) {
        await this.#answer();
        if (this.#waiting.size === 0) return;
        const held = await this.#options.exclusive(() => this.#runOnce());
        if (!held) await sleep(this.#options.pollMs ?? 100);
      }
    } catch (error) {
      // The state store failed us: every caller hears it rather than waiting for ever.
      for (const waiter of this.#waiting.values()) waiter.reject(error);
      this.#waiting.clear();
    }
  }

  /** Holding the lock: one run for every unanswered request, unless the previous holder's covered ours. */
  async #runOnce(): Promise<void> {
    await this.#answer();
    if (this.#waiting.size === 0) return;
    const runId = randomUUID();
    const claimed = await this.#options.queue.claim(runId);
    this.#runs += 1;
    const outcome = await this.#run(covering(claimed)).then(
      (report): RebuildOutcome => ({ report: { ...report } }),
      (error: unknown): RebuildOutcome => ({ error: storedError(error) }),
    );
    await this.#options.queue.finish(runId, outcome);
    await this.#answer();
  }

  async #answer(): Promise<void> {
    const outcomes = await this.#options.queue.outcomes([...this.#waiting.keys()]);
    for (const [id, outcome] of outcomes) {
      const waiter = this.#waiting.get(id);
      this.#waiting.delete(id);
      if ('report' in outcome) waiter?.resolve(outcome.report as unknown as RebuildReport);
      else waiter?.reject(revivedError(outcome.error));
    }
  }
}

/** One source run when every request named the same source; otherwise a full run covers them all. */
function covering(requests: readonly QueuedRebuild[]): RebuildRequest {
  const sources = new Set(requests.map((r) => (r.kind === 'source' ? r.source : null)));
  const [only] = sources;
  if (sources.size === 1 && only) return { kind: 'source', source: only };
  return { kind: 'full' };
}

function storedError(error: unknown): { code: string; message: string } {
  if (isAgnesError(error)) return { code: error.code, message: error.detail };
  return { code: 'internal_error', message: errorMessage(error) };
}

function revivedError(stored: { code: string; message: string }): Error {
  if (stored.code !== 'internal_error' && stored.code in ERROR_STATUS)
    return new AgnesError(stored.code as ErrorCode, stored.message);
  return new Error(stored.message);
}

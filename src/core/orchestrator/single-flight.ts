/**
 * Coalesces rebuild requests (02 §2.5 concurrency): one run at a time; calls arriving meanwhile share one
 * follow-up run that starts when the current one ends and covers all of them.
 */

export type RebuildRequest = { kind: 'full' } | { kind: 'source'; source: string };

/** How rebuild requests become runs: in this process only, or across replicas (cluster-flight.ts). */
export interface RebuildFlight<T> {
  /** Runs this process started (coalesced requests share runs). */
  readonly runs: number;
  request(request: RebuildRequest): Promise<T>;
}

interface Pending<T> {
  full: boolean;
  sources: Set<string>;
  promise: Promise<T>;
  settle: (run: Promise<T>) => void;
}

export class SingleFlight<T> implements RebuildFlight<T> {
  #running: RebuildRequest | null = null;
  #pending: Pending<T> | null = null;
  #runs = 0;

  constructor(private readonly run: (request: RebuildRequest) => Promise<T>) {}

  /** Number of runs started so far. */
  get runs(): number {
    return this.#runs;
  }

  request(request: RebuildRequest): Promise<T> {
    if (!this.#running) return this.#start(request);
    const pending = this.#pending ?? this.#newPending();
    if (request.kind === 'full') pending.full = true;
    else pending.sources.add(request.source);
    return pending.promise;
  }

  #newPending(): Pending<T> {
    let settle!: (run: Promise<T>) => void;
    const promise = new Promise<T>((resolve, reject) => {
      settle = (run) => run.then(resolve, reject);
    });
    this.#pending = { full: false, sources: new Set(), promise, settle };
    return this.#pending;
  }

  #start(request: RebuildRequest): Promise<T> {
    this.#runs += 1;
    this.#running = request;
    const promise = this.run(request);
    const next = () => {
      const pending = this.#pending;
      this.#pending = null;
      if (!pending) {
        this.#running = null;
        return;
      }
      pending.settle(this.#start(followUp(pending, request)));
    };
    promise.then(next, next);
    return promise;
  }
}

/**
 * The follow-up is one source run only when every waiting call named that same source and the
 * run just finished was a source run too; otherwise a full run covers everything (02 §2.5 concurrency).
 */
function followUp<T>(pending: Pending<T>, finished: RebuildRequest): RebuildRequest {
  const only = pending.sources.size === 1 ? [...pending.sources][0] : undefined;
  if (!pending.full && finished.kind === 'source' && only !== undefined)
    return { kind: 'source', source: only };
  return { kind: 'full' };
}

import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AgnesError } from '../../../src/core/errors.js';
import { ClusterFlight } from '../../../src/core/orchestrator/cluster-flight.js';
import type { RebuildReport } from '../../../src/core/orchestrator/report.js';
import type { RebuildRequest } from '../../../src/core/orchestrator/single-flight.js';
import { useFreshStore } from './repositories/fresh-store.js';

/** One lock shared by the "replicas" of a test, with the try-once semantics of the advisory lock. */
function tryLock() {
  let held = false;
  return async (work: () => Promise<void>) => {
    if (held) return null;
    held = true;
    try {
      await work();
      return {};
    } finally {
      held = false;
    }
  };
}

/** A run that takes a while and numbers its generations, recording what it was asked to do. */
function recordingRun(ran: RebuildRequest[], fail?: () => Error | undefined) {
  return async (request: RebuildRequest): Promise<RebuildReport> => {
    ran.push(request);
    await sleep(80);
    const error = fail?.();
    if (error) throw error;
    return { generation: ran.length, mode: request.kind } as RebuildReport;
  };
}

/**
 * 02 §2.5 across replicas (13 §3): the flights of two "replicas" share the requests table and one
 * lock, as two `agnes serve` processes share PostgreSQL. Runs on both dialects: the logic is the
 * table's; the advisory lock itself is exercised by the replica tests.
 */
describe('ClusterFlight', () => {
  const store = useFreshStore();

  function replicas(run: (request: RebuildRequest) => Promise<RebuildReport>) {
    const exclusive = tryLock();
    return ['a', 'b'].map(
      (instanceId) =>
        new ClusterFlight({ queue: store().repos.rebuildRequests, exclusive, instanceId, pollMs: 10 }, run),
    );
  }

  it('turns ten requests on two replicas at once into at most two runs, each caller answered by its run', async () => {
    const ran: RebuildRequest[] = [];
    const [a, b] = replicas(recordingRun(ran));

    const reports = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a! : b!).request({ kind: 'full' })),
    );

    expect(ran.length).toBeGreaterThanOrEqual(1);
    expect(ran.length).toBeLessThanOrEqual(2);
    expect(a!.runs + b!.runs).toBe(ran.length);
    expect(new Set(reports.map((r) => r.generation))).toEqual(
      new Set(Array.from({ length: ran.length }, (_, i) => i + 1)),
    );
  });

  it('answers a request made during a run with the follow-up, never with the run under way', async () => {
    const ran: RebuildRequest[] = [];
    const [a, b] = replicas(recordingRun(ran));

    const first = a!.request({ kind: 'source', source: 'crm' });
    while (ran.length === 0) await sleep(5);
    const during = [
      b!.request({ kind: 'source', source: 'crm' }),
      a!.request({ kind: 'source', source: 'crm' }),
    ];

    expect((await first).generation).toBe(1);
    expect((await Promise.all(during)).map((r) => r.generation)).toEqual([2, 2]);
    expect(ran).toEqual([
      { kind: 'source', source: 'crm' },
      { kind: 'source', source: 'crm' },
    ]);
  });

  it('covers requests for different sources, or a full one, with one full run', async () => {
    const ran: RebuildRequest[] = [];
    const [a, b] = replicas(recordingRun(ran));
    const blocker = a!.request({ kind: 'source', source: 'crm' });
    while (ran.length === 0) await sleep(5);

    await Promise.all([
      b!.request({ kind: 'source', source: 'jira' }),
      a!.request({ kind: 'source', source: 'crm' }),
    ]);
    await blocker;

    expect(ran).toEqual([{ kind: 'source', source: 'crm' }, { kind: 'full' }]);
  });

  it("gives every caller the covering run's error, with its code", async () => {
    const ran: RebuildRequest[] = [];
    const [a, b] = replicas(
      recordingRun(
        ran,
        () => new AgnesError('rebuild_locked', 'another rebuild is running; try again later'),
      ),
    );

    const outcomes = await Promise.allSettled([a!.request({ kind: 'full' }), b!.request({ kind: 'full' })]);

    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      const error = (outcome as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(AgnesError);
      expect(error).toMatchObject({ code: 'rebuild_locked', status: 409 });
    }
  });
});

import { describe, expect, it } from 'vitest';
import { type RebuildRequest, SingleFlight } from '../../../src/core/orchestrator/single-flight.js';

interface FakeRun {
  request: RebuildRequest;
  resolve: (value: string) => void;
  reject: (error: Error) => void;
}

/** A SingleFlight whose runs are promises the test settles by hand. */
function harness() {
  const runs: FakeRun[] = [];
  let active = 0;
  let maxActive = 0;
  const flight = new SingleFlight<string>(
    (request) =>
      new Promise<string>((resolve, reject) => {
        active += 1;
        maxActive = Math.max(maxActive, active);
        const done = () => {
          active -= 1;
        };
        runs.push({
          request,
          resolve: (value) => {
            done();
            resolve(value);
          },
          reject: (error) => {
            done();
            reject(error);
          },
        });
      }),
  );
  /** Waits until the n-th run (1-based) has started; follow-ups start on a later microtask. */
  const started = async (n: number): Promise<FakeRun> => {
    for (let i = 0; i < 100 && runs.length < n; i++) await Promise.resolve();
    const run = runs[n - 1];
    if (!run) throw new Error(`run ${n} never started (started: ${runs.length})`);
    return run;
  };
  return { flight, runs, started, maxActive: () => maxActive };
}

const full: RebuildRequest = { kind: 'full' };
const source = (name: string): RebuildRequest => ({ kind: 'source', source: name });

describe('SingleFlight', () => {
  it('starts a run immediately when idle and hands its result to the caller', async () => {
    const { flight, started } = harness();

    const report = flight.request(source('jira'));
    const run = await started(1);
    run.resolve('report-1');

    await expect(report).resolves.toBe('report-1');
    expect(run.request).toEqual(source('jira'));
    expect(flight.runs).toBe(1);
  });

  it('runs one at a time: calls during a run share one follow-up that starts after it ends', async () => {
    const { flight, runs, started, maxActive } = harness();

    const first = flight.request(full);
    const waiting = [flight.request(full), flight.request(source('a')), flight.request(full)];
    const run1 = await started(1);
    await Promise.resolve();
    expect(runs).toHaveLength(1);

    run1.resolve('gen-1');
    const run2 = await started(2);
    run2.resolve('gen-2');

    await expect(first).resolves.toBe('gen-1');
    expect(await Promise.all(waiting)).toEqual(['gen-2', 'gen-2', 'gen-2']);
    expect(flight.runs).toBe(2);
    expect(maxActive()).toBe(1);
  });

  it('coalesces any number of concurrent calls into at most one run plus one follow-up', async () => {
    const { flight, started } = harness();

    const calls = Array.from({ length: 20 }, () => flight.request(full));
    (await started(1)).resolve('first');
    (await started(2)).resolve('follow-up');

    const reports = await Promise.all(calls);
    expect(reports[0]).toBe('first');
    expect(reports.slice(1)).toEqual(Array(19).fill('follow-up'));
    expect(flight.runs).toBe(2);
  });

  it('goes idle after the follow-up, so a later call starts a fresh run', async () => {
    const { flight, started } = harness();

    const a = flight.request(full);
    const b = flight.request(full);
    (await started(1)).resolve('1');
    (await started(2)).resolve('2');
    await Promise.all([a, b]);
    const c = flight.request(source('x'));
    const run3 = await started(3);
    run3.resolve('3');

    await expect(c).resolves.toBe('3');
    expect(run3.request).toEqual(source('x'));
    expect(flight.runs).toBe(3);
  });

  describe('follow-up kind', () => {
    async function followUpOf(first: RebuildRequest, during: RebuildRequest[]): Promise<RebuildRequest> {
      const { flight, started } = harness();
      const calls = [flight.request(first), ...during.map((r) => flight.request(r))];
      (await started(1)).resolve('1');
      const run2 = await started(2);
      run2.resolve('2');
      await Promise.all(calls);
      return run2.request;
    }

    it('is a source run when only calls for one source arrive during a source run', async () => {
      expect(await followUpOf(source('a'), [source('a'), source('a')])).toEqual(source('a'));
    });

    it('is a source run for the one source named by every waiting call', async () => {
      expect(await followUpOf(source('a'), [source('b'), source('b')])).toEqual(source('b'));
    });

    it('is full when calls for different sources arrive during a source run', async () => {
      expect(await followUpOf(source('a'), [source('a'), source('b')])).toEqual(full);
    });

    it('is full when a full call arrives during a source run', async () => {
      expect(await followUpOf(source('a'), [source('a'), full])).toEqual(full);
    });

    it('is full when a source call arrives during a full run', async () => {
      expect(await followUpOf(full, [source('a')])).toEqual(full);
    });
  });

  describe('errors', () => {
    it('rejects the callers of the failed run only; the follow-up callers get its result', async () => {
      const { flight, started } = harness();

      const first = flight.request(full);
      const second = flight.request(full);
      (await started(1)).reject(new Error('disk full'));
      (await started(2)).resolve('recovered');

      await expect(first).rejects.toThrow('disk full');
      await expect(second).resolves.toBe('recovered');
      expect(flight.runs).toBe(2);
    });

    it('rejects every caller that shared a failed follow-up', async () => {
      const { flight, started } = harness();

      const first = flight.request(source('a'));
      const shared = [flight.request(full), flight.request(source('b'))];
      (await started(1)).resolve('ok');
      (await started(2)).reject(new Error('locked'));

      await expect(first).resolves.toBe('ok');
      for (const call of shared) await expect(call).rejects.toThrow('locked');
    });

    it('keeps working after a failed run', async () => {
      const { flight, started } = harness();

      const failing = flight.request(full);
      (await started(1)).reject(new Error('boom'));
      await expect(failing).rejects.toThrow('boom');
      const next = flight.request(full);
      (await started(2)).resolve('fine');

      await expect(next).resolves.toBe('fine');
    });
  });
});

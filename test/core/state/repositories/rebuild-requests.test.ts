import { describe, expect, it } from 'vitest';
import { MINUTE, useFreshStore } from './fresh-store.js';

describe('rebuild requests', () => {
  const store = useFreshStore();

  it('claims every unanswered request for one run and answers them with its outcome', async () => {
    const { repos } = store();
    const first = await repos.rebuildRequests.add({ kind: 'source', source: 'crm' }, 'replica-a');
    const second = await repos.rebuildRequests.add({ kind: 'full', source: null }, 'replica-b');

    const claimed = await repos.rebuildRequests.claim('run-1');
    const late = await repos.rebuildRequests.add({ kind: 'source', source: 'crm' }, 'replica-a');
    expect(await repos.rebuildRequests.outcomes([first, second, late])).toEqual(new Map());
    await repos.rebuildRequests.finish('run-1', { report: { generation: 7 } });

    expect(claimed).toEqual(
      expect.arrayContaining([
        { kind: 'source', source: 'crm' },
        { kind: 'full', source: null },
      ]),
    );
    expect(claimed).toHaveLength(2);
    expect(await repos.rebuildRequests.outcomes([first, second, late])).toEqual(
      new Map([
        [first, { report: { generation: 7 } }],
        [second, { report: { generation: 7 } }],
      ]),
    );
    // The request made during the run is the next run's.
    expect(await repos.rebuildRequests.claim('run-2')).toEqual([{ kind: 'source', source: 'crm' }]);
  });

  it('takes over the requests of a run that never finished, and keeps answers an hour', async () => {
    const { repos, clock } = store();
    const orphan = await repos.rebuildRequests.add({ kind: 'full', source: null }, 'replica-a');
    await repos.rebuildRequests.claim('run-of-a-dead-replica');

    expect(await repos.rebuildRequests.claim('run-2')).toEqual([{ kind: 'full', source: null }]);
    await repos.rebuildRequests.finish('run-of-a-dead-replica', { error: { code: 'x', message: 'late' } });
    await repos.rebuildRequests.finish('run-2', { error: { code: 'rebuild_locked', message: 'busy' } });
    expect(await repos.rebuildRequests.outcomes([orphan])).toEqual(
      new Map([[orphan, { error: { code: 'rebuild_locked', message: 'busy' } }]]),
    );

    clock.advance(61 * MINUTE);
    await repos.rebuildRequests.claim('run-3');
    expect(await repos.rebuildRequests.outcomes([orphan])).toEqual(new Map());
  });
});

import { describe, expect, it } from 'vitest';
import { newReplicaIdentity } from '../../../../src/core/replica/identity.js';
import { MINUTE, useFreshStore } from './fresh-store.js';

describe('replicas', () => {
  const store = useFreshStore();

  it('registers a replica once and renews its heartbeat, keeping host and start', async () => {
    const { repos, clock } = store();
    const replica = newReplicaIdentity(clock);

    await repos.replicas.heartbeat(replica);
    clock.advance(30_000);
    await repos.replicas.heartbeat(replica);

    expect(await repos.replicas.live(MINUTE)).toEqual([{ ...replica, heartbeat_at: clock.iso() }]);
    await repos.replicas.remove(replica.instance_id);
    expect(await repos.replicas.live(MINUTE)).toEqual([]);
  });

  it('tells live replicas from silent ones, and prunes the rows silent for longer than asked', async () => {
    const { repos, clock } = store();
    const old = newReplicaIdentity(clock);
    await repos.replicas.heartbeat(old);
    clock.advance(25 * 60 * MINUTE);
    const current = newReplicaIdentity(clock);
    await repos.replicas.heartbeat(current);

    const live = await repos.replicas.live(MINUTE);
    const pruned = await repos.replicas.pruneSilent(24 * 60 * MINUTE);
    const left = await repos.replicas.live(48 * 60 * MINUTE);

    expect(live.map((r) => r.instance_id)).toEqual([current.instance_id]);
    expect(pruned).toBe(1);
    expect(left.map((r) => r.instance_id)).toEqual([current.instance_id]);
  });
});

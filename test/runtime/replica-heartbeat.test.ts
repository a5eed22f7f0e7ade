import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { newReplicaIdentity } from '../../src/core/replica/identity.js';
import { replicaHeartbeat } from '../../src/runtime/replica-heartbeat.js';
import { MINUTE, useFreshStore } from '../core/state/repositories/fresh-store.js';

/** A replica says it is alive (13 §3): registered at start, beating while it runs, gone at stop. */
describe('replica heartbeat service', () => {
  const store = useFreshStore();

  it('registers at start, renews heartbeat_at on its interval and deletes its row at stop', async () => {
    const { repos, clock } = store();
    const replica = newReplicaIdentity(clock);
    const other = newReplicaIdentity(clock);
    await repos.replicas.heartbeat(other);
    const service = replicaHeartbeat(repos.replicas, replica, 20, pino({ level: 'silent' }));

    await service.start();
    const registered = (await repos.replicas.live(MINUTE)).find((r) => r.instance_id === replica.instance_id);
    clock.advance(5_000);
    await expect
      .poll(async () =>
        (await repos.replicas.live(MINUTE)).find((r) => r.instance_id === replica.instance_id),
      )
      .toMatchObject({ heartbeat_at: clock.iso() });
    await service.stop();
    clock.advance(10_000);
    const afterStop = await repos.replicas.live(MINUTE);

    expect(registered).toEqual({ ...replica, heartbeat_at: replica.started_at });
    expect(afterStop.map((r) => r.instance_id)).toEqual([other.instance_id]);
  });
});

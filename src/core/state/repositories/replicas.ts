import type { Kysely } from 'kysely';
import type { ReplicaIdentity } from '../../replica/identity.js';
import { type Clock, nowIso, systemClock } from '../../time.js';
import type { Database } from '../schema.js';

/**
 * The replicas running on this store (13 §3): each registers at start and keeps its heartbeat;
 * maintenance judges a replica dead when its heartbeat is old.
 */
export function createReplicasRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    /**
     * Registers the replica or renews its heartbeat. An upsert, so a row lost meanwhile (a restore
     * empties the store) comes back at the next heartbeat.
     */
    async heartbeat(replica: ReplicaIdentity): Promise<void> {
      const now = nowIso(clock);
      await db
        .insertInto('replicas')
        .values({ ...replica, heartbeat_at: now })
        .onConflict((oc) => oc.column('instance_id').doUpdateSet({ heartbeat_at: now }))
        .execute();
    },

    async remove(instanceId: string): Promise<void> {
      await db.deleteFrom('replicas').where('instance_id', '=', instanceId).execute();
    },

    /** The replicas whose heartbeat is newer than `maxAgeMs`. */
    async live(maxAgeMs: number): Promise<(ReplicaIdentity & { heartbeat_at: string })[]> {
      const since = new Date(clock.now().getTime() - maxAgeMs).toISOString();
      return db
        .selectFrom('replicas')
        .select(['instance_id', 'host', 'started_at', 'heartbeat_at'])
        .where('heartbeat_at', '>', since)
        .orderBy('started_at')
        .orderBy('instance_id')
        .execute();
    },

    /** Deletes the rows of replicas silent for longer than `maxAgeMs` (maintenance). */
    async pruneSilent(maxAgeMs: number): Promise<number> {
      const before = new Date(clock.now().getTime() - maxAgeMs).toISOString();
      const result = await db.deleteFrom('replicas').where('heartbeat_at', '<', before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type ReplicasRepository = ReturnType<typeof createReplicasRepository>;

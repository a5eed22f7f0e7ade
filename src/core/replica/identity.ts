import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Clock, nowIso, systemClock } from '../time.js';

/**
 * Which `agnes serve` process this is among the replicas sharing one state store (13 §3): new at
 * every start, so a restarted process never inherits the jobs or locks its previous life held.
 */
export interface ReplicaIdentity {
  instance_id: string;
  host: string;
  started_at: string;
}

export function newReplicaIdentity(clock: Clock = systemClock): ReplicaIdentity {
  return { instance_id: randomUUID(), host: hostname(), started_at: nowIso(clock) };
}

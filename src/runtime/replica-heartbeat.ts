import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';
import type { ReplicaIdentity } from '../core/replica/identity.js';
import type { ReplicasRepository } from '../core/state/repositories/index.js';
import type { Service } from './services.js';

/**
 * Says in the state store that this replica is alive (13 §3): registered at start, its heartbeat
 * every `jobs.heartbeat_seconds`, its row deleted at stop. Maintenance leaves the temp directory of
 * a replica with a recent heartbeat alone. A failed beat is logged; the next one tries again.
 */
export function replicaHeartbeat(
  replicas: ReplicasRepository,
  replica: ReplicaIdentity,
  intervalMs: number,
  log: Logger,
): Service {
  let timer: NodeJS.Timeout | null = null;
  const beat = () =>
    replicas
      .heartbeat(replica)
      .catch((error: unknown) => log.warn({ err: errorMessage(error) }, 'replica heartbeat not written'));
  return {
    name: 'replica-heartbeat',
    async start() {
      await replicas.heartbeat(replica);
      timer = setInterval(beat, intervalMs);
      // Never what keeps the process alive.
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await replicas.remove(replica.instance_id);
    },
  };
}

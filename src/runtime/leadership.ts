import { postgresStore } from '../core/state/db.js';
import { LeaderLock } from '../core/state/leader-lock.js';
import type { Runtime } from './runtime.js';
import type { Service } from './services.js';

/**
 * A service of which one instance is active across the replicas (13 §3: scheduler, outbox
 * delivery): it runs only while this process holds its leader lock, and is stopped when the lock
 * is lost and started again when it is won back, so it must be restartable. Replicas retry every
 * `jobs.heartbeat_seconds`, within the 3 heartbeats the spec allows for a takeover.
 */
export function ledByOneReplica(runtime: Pick<Runtime, 'config' | 'env' | 'log'>, service: Service): Service {
  const lock = new LeaderLock({
    store: postgresStore(runtime.config.state, runtime.env.DATABASE_URL),
    name: service.name,
    retryMs: runtime.config.jobs.heartbeat_seconds * 1000,
    leadership: { acquired: () => service.start(), released: () => service.stop() },
    log: runtime.log,
  });
  return { name: service.name, start: () => lock.start(), stop: () => lock.stop() };
}

import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/jobs/logger.js';

/**
 * How a service process (`agnes scheduler`, `telegram-bot`, `ws-gateway`, the collectors) ends
 * (08 §9): on SIGTERM or SIGINT it stops its work, waiting at most a grace period, and exits 0
 * within 10 s.
 */

/** Time a service process gives its work in flight after the signal. */
export const STOP_GRACE_MS = 8_000;

/** The first SIGTERM or SIGINT. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

/**
 * Stops the work, logs `<name> stopped` and exits 0. Exiting rather than returning also drops idle
 * keep-alive connections to the app, which would hold the process open a few seconds longer.
 */
export async function exitAfterStop(log: Logger, name: string, stop: () => Promise<unknown>): Promise<never> {
  await Promise.race([stop(), sleep(STOP_GRACE_MS)]);
  log.info({}, `${name} stopped`);
  process.exit(0);
}

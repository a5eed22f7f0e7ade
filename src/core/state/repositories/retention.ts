import { type Clock, toIso } from '../../time.js';

const DAY_MS = 86_400_000;

/** The instant `days` before now; rows stamped earlier are past their retention period. */
export function retentionCutoff(clock: Clock, days: number): string {
  return toIso(new Date(clock.now().getTime() - days * DAY_MS));
}

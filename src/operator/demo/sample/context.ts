import { createRng, type Rng } from './prng.js';
import type { BaseCounts } from './sizes.js';
import type { TimeModel } from './time-model.js';

/** What every table generator needs: the seed, the calendar and the resolved row counts. */
export interface GenerationContext {
  seed: number;
  time: TimeModel;
  counts: BaseCounts;
}

/** Each table (and each independent aspect) draws from its own stream of the seed. */
export function rngFor(ctx: GenerationContext, stream: string): Rng {
  return createRng(ctx.seed, stream);
}

/** `n` moments in the window, in time order, so sequence numbers follow time. */
export function sortedMoments(ctx: GenerationContext, rng: Rng, n: number): Float64Array {
  const moments = new Float64Array(n);
  for (let i = 0; i < n; i++) moments[i] = ctx.time.pickSecond(rng);
  return moments.sort();
}

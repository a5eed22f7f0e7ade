import { afterEach, describe, expect, it, vi } from 'vitest';
import { AgnesError } from '../../../src/core/errors.js';
import {
  EmailLimiter,
  MemoryCounters,
  type WindowCounters,
} from '../../../src/server/plugins/rate-limits.js';
import { useFreshStore } from '../../core/state/repositories/fresh-store.js';

const LIMIT = { max: 3, window_seconds: 600 };

interface Backend {
  counters: WindowCounters;
  advance(ms: number): void;
}

/**
 * The per-email limits (04 §4.1) behave the same counted in memory (SQLite, one process) and in
 * the state store (PostgreSQL replicas, 13 §3); the store runs here on SQLite, which it supports too.
 */
describe.each([
  [
    'in memory',
    (): Backend => {
      vi.useFakeTimers({ toFake: ['Date'] });
      return { counters: new MemoryCounters(), advance: (ms) => vi.advanceTimersByTime(ms) };
    },
  ],
  [
    'in the state store',
    (store: ReturnType<ReturnType<typeof useFreshStore>>): Backend => ({
      counters: store.repos.rateLimits,
      advance: (ms) => store.clock.advance(ms),
    }),
  ],
])('EmailLimiter %s', (_name, backend) => {
  const store = useFreshStore();
  afterEach(() => {
    vi.useRealTimers();
  });

  const open = () => backend(store());

  it('refuses the attempt after max, with the wait until the window ends, whatever the case of the address', async () => {
    const { counters, advance } = open();
    const limiter = new EmailLimiter('mail_per_email', LIMIT, counters);

    for (const email of ['a@example.com', ' A@Example.com ', 'a@EXAMPLE.com']) await limiter.consume(email);
    advance(100_000);
    const refused = await limiter.consume('a@example.com').catch((error: unknown) => error);
    await limiter.consume('b@example.com');
    advance(500_000);
    await limiter.consume('a@example.com');

    expect(refused).toBeInstanceOf(AgnesError);
    expect(refused).toMatchObject({ code: 'rate_limited', retryAfter: 500 });
  });

  it('counts failures only when told, and reports the wait once max have been counted', async () => {
    const { counters, advance } = open();
    const limiter = new EmailLimiter('login_per_email', LIMIT, counters);
    const other = new EmailLimiter('mail_per_email', LIMIT, counters);

    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      waits.push(await limiter.retryAfter('c@example.com'));
      await limiter.hit('C@example.com');
    }
    advance(1_500);
    waits.push(await limiter.retryAfter('c@example.com'));
    waits.push(await other.retryAfter('c@example.com'));
    advance(600_000);
    waits.push(await limiter.retryAfter('c@example.com'));

    expect(waits).toEqual([0, 0, 0, 599, 0, 0]);
  });
});

describe('EmailLimiter in the state store', () => {
  const store = useFreshStore();

  it('counts under the limit name and the trimmed, lowercased address', async () => {
    const { repos } = store();
    const limiter = new EmailLimiter('login_per_email', LIMIT, repos.rateLimits);

    await limiter.hit(' Dana@Example.COM ');

    expect(await repos.rateLimits.read('login_per_email:email:dana@example.com', 600_000)).toMatchObject({
      count: 1,
    });
  });
});

import { describe, expect, it } from 'vitest';
import { MINUTE, useFreshStore } from './fresh-store.js';

describe('rate-limit counters', () => {
  const store = useFreshStore();

  it('counts hits of one key in a fixed window and starts again once it has ended', async () => {
    const { repos, clock } = store();

    const first = await repos.rateLimits.hit('login:ip:10.0.0.1', MINUTE);
    clock.advance(10_000);
    const second = await repos.rateLimits.hit('login:ip:10.0.0.1', MINUTE);
    const other = await repos.rateLimits.hit('login:ip:10.0.0.2', MINUTE);
    clock.advance(MINUTE);
    const next = await repos.rateLimits.hit('login:ip:10.0.0.1', MINUTE);

    expect(first).toEqual({ count: 1, ttlMs: MINUTE });
    expect(second).toEqual({ count: 2, ttlMs: MINUTE - 10_000 });
    expect(other).toEqual({ count: 1, ttlMs: MINUTE });
    expect(next).toEqual({ count: 1, ttlMs: MINUTE });
  });

  it('loses no hit when many land at once', async () => {
    const { repos } = store();

    const counts = await Promise.all(
      Array.from({ length: 20 }, () => repos.rateLimits.hit('query:user:u1', MINUTE)),
    );

    expect(counts.map((c) => c.count).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });
});

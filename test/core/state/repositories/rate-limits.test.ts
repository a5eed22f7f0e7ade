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

  it('reads the current window without counting, and nothing once it has ended', async () => {
    const { repos, clock } = store();

    const none = await repos.rateLimits.read('mail_per_email:email:a@example.com', MINUTE);
    await repos.rateLimits.hit('mail_per_email:email:a@example.com', MINUTE);
    await repos.rateLimits.hit('mail_per_email:email:a@example.com', MINUTE);
    clock.advance(20_000);
    const open = await repos.rateLimits.read('mail_per_email:email:a@example.com', MINUTE);
    const again = await repos.rateLimits.read('mail_per_email:email:a@example.com', MINUTE);
    clock.advance(MINUTE);
    const ended = await repos.rateLimits.read('mail_per_email:email:a@example.com', MINUTE);

    expect(none).toEqual({ count: 0, ttlMs: MINUTE });
    expect(open).toEqual({ count: 2, ttlMs: MINUTE - 20_000 });
    expect(again).toEqual(open);
    expect(ended).toEqual({ count: 0, ttlMs: MINUTE });
  });

  it('prunes the windows that have ended and keeps the open ones', async () => {
    const { repos, clock } = store();
    await repos.rateLimits.hit('login:ip:10.0.0.1', MINUTE);
    await repos.rateLimits.hit('login_per_email:email:b@example.com', 15 * MINUTE);
    clock.advance(MINUTE);

    const pruned = await repos.rateLimits.pruneEnded();

    expect(pruned).toBe(1);
    expect(await repos.rateLimits.read('login_per_email:email:b@example.com', 15 * MINUTE)).toEqual({
      count: 1,
      ttlMs: 14 * MINUTE,
    });
    expect(await repos.rateLimits.pruneEnded()).toBe(0);
  });
});

import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { InstanceConfig } from '../../core/config/index.js';
import type { RATE_LIMIT_NAMES } from '../../core/config/schema.js';
import { AgnesError } from '../../core/errors.js';
import type { WindowCount } from '../../core/state/repositories/index.js';
import type { AgnesApp } from '../app.js';

export type RateLimitName = (typeof RATE_LIMIT_NAMES)[number];

interface Limit {
  max: number;
  window_seconds: number;
}

/** Defaults of 04 §4.1; `auth.rate_limits.<name>` overrides one. */
const DEFAULTS: Record<RateLimitName, Limit & { key: 'ip' | 'user' | 'email' }> = {
  login: { max: 10, window_seconds: 60, key: 'ip' },
  login_per_email: { max: 5, window_seconds: 15 * 60, key: 'email' },
  mail: { max: 20, window_seconds: 3600, key: 'ip' },
  mail_per_email: { max: 5, window_seconds: 10 * 60, key: 'email' },
  verify: { max: 10, window_seconds: 60, key: 'ip' },
  bootstrap: { max: 3, window_seconds: 60, key: 'ip' },
  telegram_verify: { max: 5, window_seconds: 10 * 60, key: 'user' },
  access_request: { max: 20, window_seconds: 3600, key: 'user' },
  upload: { max: 600, window_seconds: 3600, key: 'user' },
  query: { max: 120, window_seconds: 60, key: 'user' },
  webhook: { max: 1200, window_seconds: 60, key: 'ip' },
  default: { max: 1200, window_seconds: 60, key: 'user' },
};

export function limitOf(config: InstanceConfig, name: RateLimitName): Limit {
  return config.auth.rate_limits[name] ?? DEFAULTS[name];
}

/**
 * The caller's key: the socket address unless `server.trust_proxy` names the proxy (Fastify then
 * takes the right-most untrusted `X-Forwarded-For` hop), so a client-supplied header never
 * changes it. User-keyed limits fall back to the address for anonymous callers.
 */
function keyFor(kind: 'ip' | 'user' | 'email', request: FastifyRequest): string {
  if (kind === 'user' && request.auth) return `user:${request.auth.principal.id}`;
  return `ip:${request.ip}`;
}

/** Route option for `config.rateLimit`. */
export function routeLimit(config: InstanceConfig, name: RateLimitName) {
  const limit = limitOf(config, name);
  const kind = DEFAULTS[name].key;
  return {
    max: limit.max,
    timeWindow: limit.window_seconds * 1000,
    keyGenerator: (request: FastifyRequest) => `${name}:${keyFor(kind, request)}`,
  };
}

/** Fixed-window counters by key: in this process's memory, or in the state store (`RateLimitsRepository`). */
export interface WindowCounters {
  /** Counts one request and answers the window's count, this one included. */
  hit(key: string, windowMs: number): Promise<WindowCount>;
  /** The current window without counting. */
  read(key: string, windowMs: number): Promise<WindowCount>;
}

/** In-memory windows, bounded: expired windows are dropped as the map grows, then the oldest. */
export class MemoryCounters implements WindowCounters {
  readonly #windows = new Map<string, { current: number; resetAt: number }>();

  async hit(key: string, windowMs: number): Promise<WindowCount> {
    const now = Date.now();
    let window = this.#windows.get(key);
    if (!window || window.resetAt <= now) {
      this.#makeRoom(now);
      window = { current: 0, resetAt: now + windowMs };
      this.#windows.set(key, window);
    }
    window.current += 1;
    return { count: window.current, ttlMs: window.resetAt - now };
  }

  async read(key: string, windowMs: number): Promise<WindowCount> {
    const now = Date.now();
    const window = this.#windows.get(key);
    if (!window || window.resetAt <= now) return { count: 0, ttlMs: windowMs };
    return { count: window.current, ttlMs: window.resetAt - now };
  }

  #makeRoom(now: number): void {
    if (this.#windows.size < 10_000) return;
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
    // Still full: drop the oldest windows (insertion order) rather than grow without bound.
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < 10_000) break;
      this.#windows.delete(key);
    }
  }
}

/**
 * One counter space for every route. The plugin gives each route its own store by default, which
 * would turn a limit shared by several routes (`login` on three routes, `mail` and `verify` on two
 * or three, `default` on every other /api route) into one budget per route. Keys carry the limit's
 * name, so different limits never share a counter. In the state store (replicas sharing it, 13 §3)
 * every counted request is one upsert, so a limit holds however requests spread over the replicas.
 */
function sharedStore(counters: WindowCounters): new () => FastifyRateLimitStore {
  return class SharedCounters implements FastifyRateLimitStore {
    incr(
      key: string,
      callback: (error: Error | null, result?: { current: number; ttl: number }) => void,
      timeWindow: number,
    ): void {
      counters.hit(key, timeWindow).then(
        ({ count, ttlMs }) => callback(null, { current: count, ttl: ttlMs }),
        (error: Error) => callback(error),
      );
    }

    child(): FastifyRateLimitStore {
      return this;
    }
  };
}

/**
 * `counters` (given with a PostgreSQL state store) counts in the database; otherwise the counters
 * live in this process's memory.
 */
export async function registerRateLimits(
  app: AgnesApp,
  config: InstanceConfig,
  counters?: WindowCounters,
): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    // Instantiated once per app; every route's `child()` is this same store.
    store: sharedStore(counters ?? new MemoryCounters()),
    // After the auth guard, so user-keyed limits can key on the caller.
    hook: 'preHandler',
    errorResponseBuilder: (_request, context) => {
      const error = new AgnesError('rate_limited', 'too many requests');
      Object.assign(error, { statusCode: context.statusCode, retryAfter: Math.ceil(context.ttl / 1000) });
      return error;
    },
  });
  // Every other /api route gets the default limit (04 §4.1 rate limits). The public health check is left out:
  // monitors poll it, it is answered from a cache, and limiting it would only report outages
  // that are not there.
  app.addHook('onRoute', (route) => {
    if (
      !route.url.startsWith('/api/') ||
      route.url === '/api/health' ||
      route.config?.rateLimit !== undefined
    )
      return;
    route.config = { ...route.config, rateLimit: routeLimit(config, 'default') };
  });
}

/**
 * Fixed-window limits keyed by email, for those @fastify/rate-limit cannot express (failed logins
 * and mails per address, 04 §4.1), counted where the route limits are: the state store when
 * replicas share it, else memory. Keys are `<limit>:email:<trimmed, lowercased address>`.
 */
export class EmailLimiter {
  readonly #windowMs: number;

  constructor(
    private readonly name: Extract<RateLimitName, 'login_per_email' | 'mail_per_email'>,
    private readonly limit: Limit,
    private readonly counters: WindowCounters = new MemoryCounters(),
  ) {
    this.#windowMs = limit.window_seconds * 1000;
  }

  #key(email: string): string {
    return `${this.name}:email:${email.trim().toLowerCase()}`;
  }

  /** Seconds until the email may try again, or 0 when it is under the limit. */
  async retryAfter(email: string): Promise<number> {
    const { count, ttlMs } = await this.counters.read(this.#key(email), this.#windowMs);
    return count >= this.limit.max ? waitOf(ttlMs) : 0;
  }

  async hit(email: string): Promise<void> {
    await this.counters.hit(this.#key(email), this.#windowMs);
  }

  /**
   * Counts a hit; throws 429 when the email was already at the limit. One atomic count, so
   * requests racing on several replicas cannot all pass the check before any of them counts.
   */
  async consume(email: string): Promise<void> {
    const { count, ttlMs } = await this.counters.hit(this.#key(email), this.#windowMs);
    if (count > this.limit.max) throw rateLimited(waitOf(ttlMs));
  }
}

const waitOf = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs / 1000));

export const rateLimited = (retryAfter: number) =>
  Object.assign(new AgnesError('rate_limited', 'too many requests'), { retryAfter });

import { setTimeout as sleep } from 'node:timers/promises';

/** Timing knobs of an upstream HTTP client; production uses a connector's defaults, tests shorten them. */
export interface RetryTuning {
  requestTimeoutMs: number;
  /** Retries after the first attempt, for 429, 5xx and broken connections. */
  retries: number;
  /** Backoff base when the server sends no `Retry-After`. */
  retryDelayMs: number;
  /** Longest `Retry-After` honoured; a longer one is capped rather than stalling the sync. */
  maxRetryAfterMs: number;
}

/**
 * Why a request gave up: no answer in time, no connection, or a status that is final (4xx other
 * than 429) or still failing after the retries. Carries no URL query or header, so it is safe to
 * turn into a message.
 */
export class HttpFailure extends Error {
  constructor(
    readonly kind: 'timeout' | 'connection' | 'status',
    readonly status: number | null,
    message: string,
    /** The server's `Retry-After` on the last answer, when it sent one (a caller may wait longer before trying again). */
    readonly retryAfter: string | null = null,
  ) {
    super(message);
    this.name = 'HttpFailure';
  }
}

const RETRYABLE = (status: number) => status === 429 || status >= 500;

/**
 * Wait before retry `attempt` (0-based): `Retry-After` in seconds or as an HTTP date, otherwise
 * exponential backoff; `now` is injectable so an HTTP date is testable without a real clock.
 */
export function retryAfterMs(
  header: string | null,
  attempt: number,
  tuning: Pick<RetryTuning, 'retryDelayMs' | 'maxRetryAfterMs'>,
  now: number = Date.now(),
): number {
  const seconds = header === null || header.trim() === '' ? Number.NaN : Number(header);
  const wanted = Number.isFinite(seconds)
    ? seconds * 1000
    : header && Number.isFinite(Date.parse(header))
      ? Date.parse(header) - now
      : tuning.retryDelayMs * 2 ** attempt;
  return Math.min(Math.max(wanted, 0), tuning.maxRetryAfterMs);
}

/** Path of a URL without its query (signatures and tokens live there), for messages. */
export function describeUrl(url: string): string {
  try {
    return new URL(url).pathname.slice(0, 200);
  } catch {
    return '<url>';
  }
}

/**
 * One request with a per-attempt timeout, retried on 429 (honouring `Retry-After`), 5xx and
 * network errors; redirects are refused so credentials never follow a `Location`. Resolves only
 * with a 2xx response.
 */
export async function fetchWithRetries(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: URLSearchParams | string | undefined },
  tuning: RetryTuning,
): Promise<Response> {
  const what = `${init.method} ${describeUrl(url)}`;
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, {
        ...init,
        redirect: 'error',
        signal: AbortSignal.timeout(tuning.requestTimeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      if (attempt >= tuning.retries)
        throw new HttpFailure(
          timedOut ? 'timeout' : 'connection',
          null,
          `${what}: ${timedOut ? 'no response in time' : 'connection failed'}`,
        );
      await sleep(retryAfterMs(null, attempt, tuning));
      continue;
    }
    if (response.ok) return response;
    await response.body?.cancel();
    if (!RETRYABLE(response.status) || attempt >= tuning.retries)
      throw new HttpFailure(
        'status',
        response.status,
        `${what}: HTTP ${response.status}`,
        response.headers.get('retry-after'),
      );
    await sleep(retryAfterMs(response.headers.get('retry-after'), attempt, tuning));
  }
}

import { retryAfterMs } from '../../core/http/retry.js';
import { RetryableLLMError } from './errors.js';

/**
 * The one retry policy of LLM calls (07 §7, 08 §4.3): the SDKs' own retries are off, so rate
 * limits, timeouts and outages are retried here, honouring `retry-after`. Sleep and clock are
 * injected so tests need not wait.
 */
export interface RetryPolicy {
  /** Retries after the first attempt (`llm.max_retries`). */
  retries: number;
  /** Backoff base when the provider sends no `retry-after`; doubled per retry. */
  retryDelayMs: number;
  /** Longest wait honoured; a longer `retry-after` is capped rather than stalling the collector. */
  maxRetryAfterMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

export interface RetryEvent {
  error: RetryableLLMError;
  /** 1 for the first retry. */
  retry: number;
  delayMs: number;
}

/** Runs `attempt` until it succeeds, fails with a final error, or the retries are spent. */
export async function withRetries<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  onRetry: (event: RetryEvent) => void = () => {},
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof RetryableLLMError) || retry >= policy.retries) throw error;
      const delayMs = retryAfterMs(error.retryAfter, retry, policy, policy.now());
      onRetry({ error, retry: retry + 1, delayMs });
      await policy.sleep(delayMs);
    }
  }
}

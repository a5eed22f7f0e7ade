import { describe, expect, it } from 'vitest';
import {
  LLMAuthError,
  LLMFormatError,
  LLMRateLimitError,
  LLMTimeoutError,
  LLMUnavailableError,
} from '../../../src/connectors/llm/errors.js';
import { type RetryPolicy, withRetries } from '../../../src/connectors/llm/retry.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');

function policy(retries: number): RetryPolicy & { sleeps: number[] } {
  const sleeps: number[] = [];
  return {
    retries,
    retryDelayMs: 100,
    maxRetryAfterMs: 10_000,
    now: () => NOW,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    sleeps,
  };
}

/** An attempt that fails with `errors` in turn, then succeeds; counts its calls. */
function failing(...errors: Error[]) {
  const state = { calls: 0 };
  const attempt = async () => {
    const error = errors[state.calls++];
    if (error) throw error;
    return 'ok';
  };
  return { attempt, state };
}

describe('withRetries', () => {
  it('retries rate limits, timeouts and outages up to the limit, backing off exponentially', async () => {
    const p = policy(3);
    const { attempt, state } = failing(
      new LLMRateLimitError('429'),
      new LLMTimeoutError('timeout'),
      new LLMUnavailableError('529'),
    );
    await expect(withRetries(attempt, p)).resolves.toBe('ok');
    expect(state.calls).toBe(4);
    expect(p.sleeps).toEqual([100, 200, 400]);
  });

  it('gives up after max_retries and throws the last error', async () => {
    const p = policy(2);
    const { attempt, state } = failing(
      new LLMRateLimitError('1'),
      new LLMRateLimitError('2'),
      new LLMRateLimitError('3'),
    );
    await expect(withRetries(attempt, p)).rejects.toThrow('3');
    expect(state.calls).toBe(3);
  });

  it('with max_retries 0 sends the request once', async () => {
    const p = policy(0);
    const { attempt, state } = failing(new LLMTimeoutError('timeout'));
    await expect(withRetries(attempt, p)).rejects.toBeInstanceOf(LLMTimeoutError);
    expect(state.calls).toBe(1);
    expect(p.sleeps).toEqual([]);
  });

  it('does not retry auth, format or unknown errors', async () => {
    for (const error of [new LLMAuthError('401'), new LLMFormatError('bad'), new TypeError('bug')]) {
      const p = policy(2);
      const { attempt, state } = failing(error);
      await expect(withRetries(attempt, p)).rejects.toBe(error);
      expect(state.calls).toBe(1);
    }
  });

  it('honours retry-after in seconds and as an HTTP date, capped', async () => {
    const p = policy(3);
    const inFive = new Date(NOW + 5000).toUTCString();
    const { attempt } = failing(
      new LLMRateLimitError('429', '2'),
      new LLMRateLimitError('429', inFive),
      new LLMRateLimitError('429', '3600'),
    );
    await withRetries(attempt, p);
    expect(p.sleeps).toEqual([2000, 5000, 10_000]);
  });

  it('reports every retry with the error class and the wait', async () => {
    const events: string[] = [];
    const { attempt } = failing(new LLMRateLimitError('429', '1'));
    await withRetries(attempt, policy(2), (e) => events.push(`${e.retry} ${e.error.name} ${e.delayMs}`));
    expect(events).toEqual(['1 LLMRateLimitError 1000']);
  });
});

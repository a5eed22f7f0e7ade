import type { Logger } from 'pino';
import { LLMError, type LlmUsage } from './errors.js';
import { type RetryPolicy, withRetries } from './retry.js';

export type LlmProvider = 'anthropic' | 'openai_compat';

export interface ExtractJsonResult<T> {
  value: T;
  /** Tokens of the answer that succeeded; callers add them up for accounting. */
  usage: LlmUsage;
  provider: LlmProvider;
  model: string;
  /** Requests sent, retries included. */
  attempts: number;
}

/** What every call of one client shares: who it talks to, its logger and its retry policy. */
export interface CallContext {
  provider: LlmProvider;
  model: string;
  /** Scheme and host of the base URL: never its path, query or credentials. */
  endpoint: string;
  logger: Logger;
  retry: RetryPolicy;
}

/** Scheme and host (with port) of a URL, the only part of it that is logged. */
export function endpointOf(baseUrl: string): string {
  return new URL(baseUrl).origin;
}

/**
 * Runs one extraction with retries and logs its outcome (07 §7 privacy): provider, model, endpoint,
 * token counts, duration, attempts and the error class — nothing of the key, prompt or answer.
 */
export async function observedCall<T>(
  context: CallContext,
  attempt: () => Promise<{ value: T; usage: LlmUsage }>,
): Promise<ExtractJsonResult<T>> {
  const { provider, model, endpoint, logger, retry } = context;
  const fields = { provider, model, endpoint };
  const started = retry.now();
  let attempts = 0;
  try {
    const { value, usage } = await withRetries(
      () => {
        attempts += 1;
        return attempt();
      },
      retry,
      ({ error, delayMs }) => logger.warn({ ...fields, error: error.name, delayMs }, 'llm call retried'),
    );
    logger.info({ ...fields, ...usage, durationMs: retry.now() - started, attempts }, 'llm call succeeded');
    return { value, usage, provider, model, attempts };
  } catch (error) {
    const usage = error instanceof LLMError ? error.usage : null;
    logger.warn(
      {
        ...fields,
        ...usage,
        durationMs: retry.now() - started,
        attempts,
        error: error instanceof Error ? error.name : 'unknown',
      },
      'llm call failed',
    );
    throw error;
  }
}

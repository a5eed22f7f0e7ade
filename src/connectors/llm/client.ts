import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { ConfigError, type InstanceConfig } from '../../core/config/index.js';
import { AnthropicLlmClient } from './anthropic.js';
import type { CallContext, ExtractJsonResult, LlmProvider } from './call.js';
import { endpointOf } from './call.js';
import { OpenAiCompatLlmClient } from './openai-compat.js';
import type { ExtractJsonRequest } from './request.js';
import type { RetryPolicy } from './retry.js';

/** An LLM that answers with JSON matching a schema (07 §7); used by the corporate-memory collector. */
export interface LlmClient {
  readonly provider: LlmProvider;
  readonly model: string;
  /**
   * Resolves with the validated answer and its token counts; rejects with an `LLMError` subclass
   * once retries (rate limits, timeouts, outages) are spent or on a final failure.
   */
  extractJson<T>(request: ExtractJsonRequest): Promise<ExtractJsonResult<T>>;
}

export type LlmConfig = InstanceConfig['llm'];

/** Production timings come from the configuration and these defaults; tests shorten them. */
export interface LlmTuning {
  /** Per request; defaults to `llm.timeout_seconds`. */
  timeoutMs: number;
  retryDelayMs: number;
  maxRetryAfterMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
}

export interface LlmClientDeps {
  logger: Logger;
  tuning?: Partial<LlmTuning>;
}

const ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

/**
 * The client of the configured provider, or undefined for provider `none` (the collector then
 * stays idle). A missing key, model or base URL fails closed even when the configuration was not
 * checked by the loader.
 */
export function createLlmClient(llm: LlmConfig, deps: LlmClientDeps): LlmClient | undefined {
  if (llm.provider === 'none') return undefined;
  const missing = (key: string) =>
    new ConfigError([`config: llm.${key}: is required for provider ${llm.provider}`]);
  if (!llm.api_key?.trim()) throw missing('api_key');
  if (!llm.model) throw missing('model');
  const baseUrl = llm.base_url ?? (llm.provider === 'anthropic' ? ANTHROPIC_BASE_URL : undefined);
  if (!baseUrl) throw missing('base_url');

  const tuning = deps.tuning ?? {};
  const retry: RetryPolicy = {
    retries: llm.max_retries,
    retryDelayMs: tuning.retryDelayMs ?? 1000,
    maxRetryAfterMs: tuning.maxRetryAfterMs ?? 60_000,
    sleep: tuning.sleep ?? ((ms) => sleep(ms)),
    now: tuning.now ?? Date.now,
  };
  const context: CallContext = {
    provider: llm.provider,
    model: llm.model,
    endpoint: endpointOf(baseUrl),
    logger: deps.logger,
    retry,
  };
  const timeoutMs = tuning.timeoutMs ?? llm.timeout_seconds * 1000;
  if (llm.provider === 'anthropic')
    return new AnthropicLlmClient({ apiKey: llm.api_key, baseUrl, timeoutMs }, context);
  return new OpenAiCompatLlmClient(
    { apiKey: llm.api_key, baseUrl, timeoutMs, structuredOutput: llm.structured_output },
    context,
  );
}

/**
 * Failure classes of LLM calls (07 §7). Messages name the provider, the HTTP status and the
 * provider's error type at most: never a key, a prompt, a response or the provider's own error
 * text, which may echo the request.
 */

export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
}

export abstract class LLMError extends Error {
  /** Tokens the provider billed for the failed answer, when it sent one. */
  usage: LlmUsage | null = null;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Attaches the tokens billed for an answer that was unusable. */
export function withUsage<E extends LLMError>(error: E, usage: LlmUsage): E {
  error.usage = usage;
  return error;
}

/** The provider refused the key (401/403); sending it again cannot help. */
export class LLMAuthError extends LLMError {}

/**
 * A failure the same request may get past when sent again (rate limits, timeouts, outages);
 * `retryAfter` is the provider's `retry-after` header as sent.
 */
export abstract class RetryableLLMError extends LLMError {
  constructor(
    message: string,
    readonly retryAfter: string | null = null,
  ) {
    super(message);
  }
}

/** 429. */
export class LLMRateLimitError extends RetryableLLMError {}

/** No answer within `llm.timeout_seconds`, or the connection failed or dropped. */
export class LLMTimeoutError extends RetryableLLMError {}

/**
 * The provider failed or is overloaded (5xx, Anthropic's 529). Not among 07 §7's names; 08 §4.3
 * retries these like rate limits, so they get their own retryable class.
 */
export class LLMUnavailableError extends RetryableLLMError {}

/** An answer that is not the requested JSON: not JSON, prose, a schema mismatch, cut at max tokens. */
export class LLMFormatError extends LLMError {}

/** The model declined, or answered nothing. */
export class LLMRefusalError extends LLMError {}

/** The provider rejected the request itself: an unknown model, an unsupported parameter or output mode. */
export class LLMUnsupportedError extends LLMError {}

/** What the SDKs (both Stainless-generated, same shape) tell about a failed HTTP call. */
export interface HttpErrorFacts {
  status: number;
  headers: Headers | undefined;
  /** The provider's error type or code (`rate_limit_error`, `invalid_api_key`…). */
  type: string | null;
}

/** Maps a failed HTTP status to its class; `who` names the provider. */
export function fromHttpStatus(who: string, facts: HttpErrorFacts): LLMError {
  const { status } = facts;
  const what = `${who}: HTTP ${status}${facts.type ? ` ${facts.type}` : ''}`;
  const retryAfter = facts.headers?.get('retry-after') ?? null;
  if (status === 401 || status === 403) return new LLMAuthError(`${what}: the API key was refused`);
  if (status === 429) return new LLMRateLimitError(`${what}: rate limited`, retryAfter);
  if (status === 408) return new LLMTimeoutError(`${what}: the provider timed out`, retryAfter);
  if (status >= 500) return new LLMUnavailableError(`${what}: the provider failed`, retryAfter);
  return new LLMUnsupportedError(`${what}: the provider rejected the request`);
}

type ErrorClass = abstract new (...args: never[]) => Error;

/** The error classes an SDK throws; both SDKs name them alike. */
export interface SdkErrorClasses {
  APIError: ErrorClass;
  APIConnectionError: ErrorClass;
  APIConnectionTimeoutError: ErrorClass;
}

/**
 * Maps what an SDK threw to an LLM error; anything else (a bug of ours) passes unchanged. The SDK
 * error is not kept as `cause`: its message may hold the provider's text, and a logged error
 * serialises its causes.
 */
export function fromSdkError(who: string, error: unknown, sdk: SdkErrorClasses): unknown {
  if (error instanceof LLMError) return error;
  if (error instanceof sdk.APIConnectionTimeoutError) return new LLMTimeoutError(`${who}: no answer in time`);
  if (error instanceof sdk.APIConnectionError) return new LLMTimeoutError(`${who}: the connection failed`);
  if (error instanceof sdk.APIError) {
    const api = error as Error & { status?: unknown; headers?: unknown; type?: unknown; code?: unknown };
    if (typeof api.status === 'number') {
      const type = [api.type, api.code].find((t): t is string => typeof t === 'string' && t !== '');
      return fromHttpStatus(who, {
        status: api.status,
        headers: api.headers instanceof Headers ? api.headers : undefined,
        type: type ? safeType(type) : null,
      });
    }
  }
  // The SDKs parse a 2xx body with `response.json()`; a body that is not JSON is a format error.
  if (error instanceof SyntaxError) return new LLMFormatError(`${who}: the response body is not JSON`);
  return error;
}

/** Error types are short identifiers; anything else from upstream is not repeated. */
function safeType(type: string): string {
  return /^[A-Za-z0-9_.-]{1,64}$/.test(type) ? type : 'error';
}

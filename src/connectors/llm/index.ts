export type { ExtractJsonResult, LlmProvider } from './call.js';
export {
  createLlmClient,
  type LlmClient,
  type LlmClientDeps,
  type LlmConfig,
  type LlmTuning,
} from './client.js';
export {
  LLMAuthError,
  LLMError,
  LLMFormatError,
  LLMRateLimitError,
  LLMRefusalError,
  LLMTimeoutError,
  LLMUnavailableError,
  LLMUnsupportedError,
  type LlmUsage,
} from './errors.js';
export type { ExtractJsonRequest, JsonSchema } from './request.js';

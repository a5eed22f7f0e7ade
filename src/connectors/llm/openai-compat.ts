import OpenAI from 'openai';
import type {
  ChatCompletion,
  ChatCompletionCreateParamsNonStreaming,
} from 'openai/resources/chat/completions/completions';
import { type CallContext, type ExtractJsonResult, observedCall } from './call.js';
import {
  fromSdkError,
  LLMFormatError,
  LLMRefusalError,
  LLMUnsupportedError,
  type LlmUsage,
  withUsage,
} from './errors.js';
import { parseJsonLenient } from './json-output.js';
import { checkRequest, type ExtractJsonRequest, type OutputCheck } from './request.js';

export type StructuredOutput = 'strict' | 'json' | 'auto';

/** How the answer is asked for: a schema-bound response format, JSON mode, or plain text. */
export type OutputStrategy = 'json_schema' | 'json_object' | 'text';

/** `llm.structured_output` → the strategies to try, in order (07 §7). */
const STRATEGIES: Record<StructuredOutput, readonly OutputStrategy[]> = {
  strict: ['json_schema'],
  json: ['json_schema', 'json_object'],
  auto: ['json_schema', 'json_object', 'text'],
};

export interface OpenAiCompatSettings {
  apiKey: string;
  /** With `/v1`: the SDK appends `/chat/completions`. */
  baseUrl: string;
  timeoutMs: number;
  structuredOutput: StructuredOutput;
}

/**
 * Chat Completions of OpenAI or a compatible server (vLLM, Ollama, LiteLLM…). A server that
 * rejects a response format with a 400 naming `response_format` gets the next strategy; the
 * client remembers the one that works so later calls do not repeat the rejected ones.
 */
export class OpenAiCompatLlmClient {
  readonly provider = 'openai_compat';
  readonly model: string;
  readonly #sdk: OpenAI;
  readonly #context: CallContext;
  readonly #mode: StructuredOutput;
  readonly #strategies: readonly OutputStrategy[];
  #current = 0;

  constructor(settings: OpenAiCompatSettings, context: CallContext) {
    this.model = context.model;
    this.#context = context;
    this.#mode = settings.structuredOutput;
    this.#strategies = STRATEGIES[settings.structuredOutput];
    this.#sdk = new OpenAI({
      apiKey: settings.apiKey,
      baseURL: settings.baseUrl,
      timeout: settings.timeoutMs,
      // One retry policy, ours (08 §4.3).
      maxRetries: 0,
      // The SDK's own logging could record request bodies, i.e. prompts.
      logLevel: 'off',
      // Explicit, so OPENAI_ORG_ID / OPENAI_PROJECT_ID in the environment add no headers.
      organization: null,
      project: null,
    });
  }

  async extractJson<T>(request: ExtractJsonRequest): Promise<ExtractJsonResult<T>> {
    const check = checkRequest(request);
    return observedCall(this.#context, () => this.#attempt<T>(request, check));
  }

  async #attempt<T>(request: ExtractJsonRequest, check: OutputCheck): Promise<{ value: T; usage: LlmUsage }> {
    for (;;) {
      const index = this.#current;
      const strategy = this.#strategies[index] ?? 'json_schema';
      let completion: ChatCompletion;
      try {
        completion = await this.#sdk.chat.completions.create(completionBody(request, this.model, strategy));
      } catch (error) {
        if (!rejectsResponseFormat(error)) throw fromSdkError('openai_compat', error, OpenAI);
        if (index + 1 >= this.#strategies.length)
          throw new LLMUnsupportedError(
            `openai_compat: the server rejects response_format ${strategy}, the last one llm.structured_output ${this.#mode} allows`,
          );
        this.#current = Math.max(this.#current, index + 1);
        const { provider, model, endpoint, logger } = this.#context;
        logger.info(
          { provider, model, endpoint, strategy: this.#strategies[this.#current] },
          'llm output strategy changed',
        );
        continue;
      }
      return readCompletion<T>(completion, request.schemaName, check);
    }
  }
}

const INSTRUCTION = 'Answer with one JSON object and nothing else. It must conform to this JSON Schema:';

/** The request for one strategy; without a schema-bound format the schema goes into the system prompt. */
function completionBody(
  request: ExtractJsonRequest,
  model: string,
  strategy: OutputStrategy,
): ChatCompletionCreateParamsNonStreaming {
  const system =
    strategy === 'json_schema'
      ? request.system
      : `${request.system}\n\n${INSTRUCTION}\n${JSON.stringify(request.schema)}`;
  const body: ChatCompletionCreateParamsNonStreaming = {
    model,
    max_tokens: request.maxTokens,
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: request.prompt },
    ],
  };
  if (strategy === 'json_schema')
    body.response_format = {
      type: 'json_schema',
      json_schema: { name: request.schemaName, schema: { ...request.schema }, strict: true },
    };
  if (strategy === 'json_object') body.response_format = { type: 'json_object' };
  return body;
}

function rejectsResponseFormat(error: unknown): boolean {
  return (
    error instanceof OpenAI.APIError &&
    error.status === 400 &&
    (error.param === 'response_format' || error.message.includes('response_format'))
  );
}

/** The first choice's JSON, read leniently and checked against the schema. */
function readCompletion<T>(
  completion: ChatCompletion,
  schemaName: string,
  check: OutputCheck,
): { value: T; usage: LlmUsage } {
  if (!completion || !Array.isArray(completion.choices))
    throw new LLMFormatError('openai_compat: the response is not a chat completion');
  const usage = {
    inputTokens: completion.usage?.prompt_tokens ?? 0,
    outputTokens: completion.usage?.completion_tokens ?? 0,
  };
  const fail = (error: LLMFormatError | LLMRefusalError) => withUsage(error, usage);
  const choice = completion.choices[0];
  if (!choice) throw fail(new LLMRefusalError('openai_compat: the answer is empty'));
  if (choice.message?.refusal || choice.finish_reason === 'content_filter')
    throw fail(new LLMRefusalError('openai_compat: the model refused'));
  if (choice.finish_reason === 'length')
    throw fail(new LLMFormatError('openai_compat: the answer was cut at the token limit'));
  const content = choice.message?.content ?? '';
  if (content.trim() === '') throw fail(new LLMRefusalError('openai_compat: the answer is empty'));
  const parsed = parseJsonLenient(content);
  if (!parsed) throw fail(new LLMFormatError('openai_compat: the answer is not JSON'));
  const problem = check(parsed.value);
  if (problem)
    throw fail(new LLMFormatError(`openai_compat: the answer does not match ${schemaName}: ${problem}`));
  return { value: parsed.value as T, usage };
}

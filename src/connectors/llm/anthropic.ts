import Anthropic from '@anthropic-ai/sdk';
import type { Message, ToolUseBlock } from '@anthropic-ai/sdk/resources/messages/messages';
import { type CallContext, type ExtractJsonResult, observedCall } from './call.js';
import { fromSdkError, LLMFormatError, LLMRefusalError, type LlmUsage, withUsage } from './errors.js';
import { checkRequest, type ExtractJsonRequest, type OutputCheck } from './request.js';

export interface AnthropicSettings {
  apiKey: string;
  /** Without `/v1`: the SDK appends `/v1/messages`. */
  baseUrl: string;
  timeoutMs: number;
}

/**
 * Messages API (07 §7): the answer is forced into a single tool whose input schema is the target
 * schema, so it arrives as parsed JSON.
 */
export class AnthropicLlmClient {
  readonly provider = 'anthropic';
  readonly model: string;
  readonly #sdk: Anthropic;
  readonly #context: CallContext;

  constructor(settings: AnthropicSettings, context: CallContext) {
    this.model = context.model;
    this.#context = context;
    this.#sdk = new Anthropic({
      apiKey: settings.apiKey,
      // Always explicit, so ANTHROPIC_BASE_URL in the environment cannot redirect the key.
      baseURL: settings.baseUrl,
      timeout: settings.timeoutMs,
      // One retry policy, ours (08 §4.3).
      maxRetries: 0,
      // The SDK's own logging and tracing could record request bodies, i.e. prompts.
      logLevel: 'off',
      openTelemetry: false,
    });
  }

  async extractJson<T>(request: ExtractJsonRequest): Promise<ExtractJsonResult<T>> {
    const check = checkRequest(request);
    return observedCall(this.#context, async () => {
      let message: Message;
      try {
        message = await this.#sdk.messages.create({
          model: this.model,
          max_tokens: request.maxTokens,
          system: request.system,
          messages: [{ role: 'user', content: request.prompt }],
          tools: [
            {
              name: request.schemaName,
              description: `Records the answer; its input is the ${request.schemaName} object.`,
              input_schema: request.schema as Anthropic.Tool.InputSchema,
            },
          ],
          tool_choice: { type: 'tool', name: request.schemaName },
        });
      } catch (error) {
        throw fromSdkError('anthropic', error, Anthropic);
      }
      return readToolAnswer<T>(message, request.schemaName, check);
    });
  }
}

/** The forced tool call's input, checked against the schema; every other outcome is an error. */
function readToolAnswer<T>(
  message: Message,
  tool: string,
  check: OutputCheck,
): { value: T; usage: LlmUsage } {
  if (!message || !Array.isArray(message.content))
    throw new LLMFormatError('anthropic: the response is not a message');
  const usage = usageOf(message);
  const fail = (error: LLMFormatError | LLMRefusalError) => withUsage(error, usage);
  if (message.stop_reason === 'refusal') throw fail(new LLMRefusalError('anthropic: the model refused'));
  if (message.stop_reason === 'max_tokens' || message.stop_reason === 'model_context_window_exceeded')
    throw fail(new LLMFormatError('anthropic: the answer was cut at the token limit'));
  const call = message.content.find(
    (block): block is ToolUseBlock => block.type === 'tool_use' && block.name === tool,
  );
  if (!call) {
    const prose = message.content.some((block) => block.type === 'text' && block.text.trim() !== '');
    throw fail(
      prose
        ? new LLMFormatError('anthropic: the answer is prose instead of the tool call')
        : new LLMRefusalError('anthropic: the answer is empty'),
    );
  }
  const problem = check(call.input);
  if (problem) throw fail(new LLMFormatError(`anthropic: the answer does not match ${tool}: ${problem}`));
  return { value: call.input as T, usage };
}

/** Input tokens include those written to and read from the prompt cache: all are billed. */
function usageOf(message: Message): LlmUsage {
  const usage = message.usage;
  return {
    inputTokens:
      (usage?.input_tokens ?? 0) +
      (usage?.cache_creation_input_tokens ?? 0) +
      (usage?.cache_read_input_tokens ?? 0),
    outputTokens: usage?.output_tokens ?? 0,
  };
}

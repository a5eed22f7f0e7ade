import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  dropConnection,
  FakeHttpServer,
  header,
  type RecordedRequest,
  sendJson,
  sendMalformedJson,
  wait,
} from './http.js';

/**
 * A fake Anthropic Messages API (07 §7): `POST /v1/messages` on 127.0.0.1 answering from a
 * script of replies in the real wire format — a forced tool call, prose, a cut answer, a refusal,
 * an error body `{type: "error", error: {type, message}}` with `retry-after` — plus slow replies,
 * dropped connections and bodies that are not JSON. The key is checked on every request (the
 * API takes it as `x-api-key`; the SDK sends it as `Authorization: Bearer`), and so is the
 * `anthropic-version` header. Every request is logged.
 */

type Answer =
  /** The forced tool call with this input (valid or not for the schema). */
  | { kind: 'tool'; input: unknown }
  /** A text block instead of the tool call. */
  | { kind: 'text'; text: string }
  /** `stop_reason: max_tokens` with the tool input cut short. */
  | { kind: 'truncated' }
  | { kind: 'refusal' }
  /** No content blocks at all. */
  | { kind: 'empty' }
  | { kind: 'error'; status: number; type: string; retryAfter?: string }
  | { kind: 'drop' }
  | { kind: 'malformed' };

/** The parts of a Messages request a responder reads. */
export interface AnthropicRequestBody {
  model: string;
  system?: string;
  messages: { role: string; content: string }[];
  tool_choice?: { name?: string };
}

/** One scripted answer; `delayMs` sends it late. */
export type AnthropicReply = Answer & { delayMs?: number };

/** Token counts of every answer, so tests can check what the client reports. */
export const ANTHROPIC_USAGE = {
  input_tokens: 321,
  output_tokens: 45,
  cache_creation_input_tokens: 10,
  cache_read_input_tokens: 5,
};

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

export class FakeAnthropic {
  readonly apiKey: string;
  /** Replies in order, one per request; a request past the end gets a 500. */
  readonly script: AnthropicReply[] = [];
  /** Answers a request when the script is empty, from its parsed body (tool name, messages). */
  responder: ((body: AnthropicRequestBody) => AnthropicReply) | null = null;
  #http!: FakeHttpServer;

  private constructor(apiKey: string) {
    this.apiKey = apiKey;
  }

  static async start(apiKey = 'sk-ant-fake-0123456789abcdef'): Promise<FakeAnthropic> {
    const fake = new FakeAnthropic(apiKey);
    fake.#http = await FakeHttpServer.start((request, res) => fake.#handle(request, res));
    return fake;
  }

  /** Base URL for the SDK, without `/v1`. */
  get url(): string {
    return this.#http.url;
  }

  get requests(): RecordedRequest[] {
    return this.#http.requests;
  }

  reply(...replies: AnthropicReply[]): this {
    this.script.push(...replies);
    return this;
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  async #handle(request: RecordedRequest, res: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || request.path !== '/v1/messages')
      return this.#error(res, 404, 'not_found_error', 'Not found');
    const key = header(request, 'x-api-key') ?? header(request, 'authorization')?.replace(/^Bearer /, '');
    if (key !== this.apiKey) return this.#error(res, 401, 'authentication_error', 'invalid x-api-key');
    if (!header(request, 'anthropic-version'))
      return this.#error(res, 400, 'invalid_request_error', 'anthropic-version: header is required');

    const reply = this.script.shift() ?? this.responder?.(request.body as AnthropicRequestBody);
    if (!reply) return this.#error(res, 500, 'api_error', 'no scripted reply left');
    if (reply.delayMs) await wait(reply.delayMs);
    const body = request.body as { model?: string; tool_choice?: { name?: string } };
    const message = (content: unknown[], stopReason: string, extra: object = {}) =>
      sendJson(
        res,
        200,
        {
          id: id('msg'),
          type: 'message',
          role: 'assistant',
          model: body.model,
          content,
          stop_reason: stopReason,
          stop_sequence: null,
          usage: ANTHROPIC_USAGE,
          ...extra,
        },
        { 'request-id': id('req') },
      );
    const toolUse = (input: unknown) => ({
      type: 'tool_use',
      id: id('toolu'),
      name: body.tool_choice?.name,
      input,
    });
    switch (reply.kind) {
      case 'tool':
        return message([toolUse(reply.input)], 'tool_use');
      case 'text':
        return message([{ type: 'text', text: reply.text }], 'end_turn');
      case 'truncated':
        return message([toolUse({})], 'max_tokens');
      case 'refusal':
        return message([], 'refusal', {
          stop_details: { type: 'refusal', category: null, explanation: null },
        });
      case 'empty':
        return message([], 'end_turn');
      case 'error':
        return this.#error(res, reply.status, reply.type, `scripted ${reply.type}`, reply.retryAfter);
      case 'drop':
        return dropConnection(res);
      case 'malformed':
        return sendMalformedJson(res);
    }
  }

  #error(res: ServerResponse, status: number, type: string, message: string, retryAfter?: string): void {
    const headers: Record<string, string> = { 'request-id': id('req') };
    if (retryAfter !== undefined) headers['retry-after'] = retryAfter;
    sendJson(
      res,
      status,
      { type: 'error', error: { type, message }, request_id: headers['request-id'] },
      headers,
    );
  }
}

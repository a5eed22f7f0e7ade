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
 * A fake OpenAI-compatible Chat Completions API (07 §7): `POST /v1/chat/completions` on
 * 127.0.0.1 answering from a script of replies in the real wire format — `chat.completion`
 * objects with `choices[].message`, `finish_reason` and `usage`, error bodies
 * `{error: {message, type, param, code}}` with `retry-after` — plus slow replies, dropped
 * connections and bodies that are not JSON. `rejectFormats` makes it a server without some
 * response formats: such requests get the 400 naming `response_format` a real server sends,
 * without using up a scripted reply. `Authorization: Bearer` is checked on every request, and
 * every request is logged.
 */

type Answer =
  /** A complete answer with this text (JSON, JSON in prose, not JSON…). */
  | { kind: 'content'; content: string }
  /** `finish_reason: length` with the answer cut short. */
  | { kind: 'truncated' }
  /** `message.refusal` set, no content. */
  | { kind: 'refusal' }
  | { kind: 'empty' }
  | { kind: 'error'; status: number; type: string; code?: string; param?: string; retryAfter?: string }
  | { kind: 'drop' }
  | { kind: 'malformed' };

/** One scripted answer; `delayMs` sends it late. */
export type OpenAiReply = Answer & { delayMs?: number };

export const OPENAI_USAGE = { prompt_tokens: 210, completion_tokens: 34, total_tokens: 244 };

export class FakeOpenAi {
  readonly apiKey: string;
  /** Replies in order, one per request; a request past the end gets a 500. */
  readonly script: OpenAiReply[] = [];
  /** `response_format.type` values this server refuses. */
  readonly rejectFormats = new Set<string>();
  #http!: FakeHttpServer;

  private constructor(apiKey: string) {
    this.apiKey = apiKey;
  }

  static async start(apiKey = 'sk-fake-openai-0123456789abcdef'): Promise<FakeOpenAi> {
    const fake = new FakeOpenAi(apiKey);
    fake.#http = await FakeHttpServer.start((request, res) => fake.#handle(request, res));
    return fake;
  }

  /** Base URL for the SDK, with `/v1`. */
  get url(): string {
    return `${this.#http.url}/v1`;
  }

  get requests(): RecordedRequest[] {
    return this.#http.requests;
  }

  /** The `response_format.type` of each request, `text` when it had none. */
  get formats(): string[] {
    return this.requests.map(
      (r) => (r.body as { response_format?: { type?: string } }).response_format?.type ?? 'text',
    );
  }

  reply(...replies: OpenAiReply[]): this {
    this.script.push(...replies);
    return this;
  }

  close(): Promise<void> {
    return this.#http.close();
  }

  async #handle(request: RecordedRequest, res: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || request.path !== '/v1/chat/completions')
      return error(res, 404, { type: 'invalid_request_error', code: 'unknown_url', message: 'Unknown URL' });
    if (header(request, 'authorization') !== `Bearer ${this.apiKey}`)
      return error(res, 401, {
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        message: 'Incorrect API key provided.',
      });
    const body = request.body as { model?: string; response_format?: { type?: string } };
    const format = body.response_format?.type;
    if (format && this.rejectFormats.has(format))
      return error(res, 400, {
        type: 'invalid_request_error',
        param: 'response_format',
        message: `Invalid parameter: 'response_format' of type '${format}' is not supported with this model.`,
      });

    const reply = this.script.shift();
    if (!reply) return error(res, 500, { type: 'server_error', message: 'no scripted reply left' });
    if (reply.delayMs) await wait(reply.delayMs);
    const completion = (message: object, finishReason: string) =>
      sendJson(res, 200, {
        id: `chatcmpl-${randomBytes(12).toString('hex')}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', refusal: null, annotations: [], ...message },
            logprobs: null,
            finish_reason: finishReason,
          },
        ],
        usage: OPENAI_USAGE,
        system_fingerprint: null,
      });
    switch (reply.kind) {
      case 'content':
        return completion({ content: reply.content }, 'stop');
      case 'truncated':
        return completion({ content: '{"items": [{"title": "cut' }, 'length');
      case 'refusal':
        return completion({ content: null, refusal: "I'm sorry, I can't help with that." }, 'stop');
      case 'empty':
        return completion({ content: '' }, 'stop');
      case 'error':
        return error(
          res,
          reply.status,
          { type: reply.type, code: reply.code, param: reply.param, message: `scripted ${reply.type}` },
          reply.retryAfter,
        );
      case 'drop':
        return dropConnection(res);
      case 'malformed':
        return sendMalformedJson(res);
    }
  }
}

function error(
  res: ServerResponse,
  status: number,
  detail: { message: string; type: string; param?: string | undefined; code?: string | undefined },
  retryAfter?: string,
): void {
  const headers: Record<string, string> = retryAfter === undefined ? {} : { 'retry-after': retryAfter };
  sendJson(
    res,
    status,
    {
      error: {
        message: detail.message,
        type: detail.type,
        param: detail.param ?? null,
        code: detail.code ?? null,
      },
    },
    headers,
  );
}

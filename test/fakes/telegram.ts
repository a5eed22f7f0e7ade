import type { ServerResponse } from 'node:http';
import { FakeHttpServer, type RecordedRequest, sendJson } from './http.js';

/**
 * A fake Telegram Bot API (https://core.telegram.org/bots/api) on 127.0.0.1: `POST
 * /bot<token>/<method>` with JSON bodies and `{ok, result}` / `{ok: false, error_code,
 * description, parameters}` answers. `getUpdates` long-polls scripted updates and honours
 * `offset` the way Telegram does (updates below it are confirmed and dropped); `sendMessage` is
 * recorded. Faults: a wrong token (401), a chat that blocked the bot (403), scripted errors such
 * as 429 with `retry_after`.
 */

export const FAKE_BOT_USERNAME = 'AgnesTestBot';

export interface SentMessage {
  chat_id: number;
  text: string;
  parse_mode: string | undefined;
  message_id: number;
}

export interface Fault {
  status: number;
  description: string;
  retry_after?: number;
  /** Only calls for this chat fail; others pass untouched. */
  chat_id?: number;
}

interface Update {
  update_id: number;
  message: Record<string, unknown>;
}

export class FakeTelegram {
  readonly sent: SentMessage[] = [];
  /** Every method called with the right token, in order. */
  readonly calls: string[] = [];
  readonly #token: string;
  readonly #updates: Update[] = [];
  readonly #waiters = new Set<() => void>();
  readonly #faults = new Map<string, Fault[]>();
  readonly #blocked = new Set<number>();
  #nextUpdate = 1;
  #nextMessage = 1;
  /** The highest offset a `getUpdates` call has confirmed. */
  confirmedOffset = 0;
  #http!: FakeHttpServer;

  private constructor(token: string) {
    this.#token = token;
  }

  static async start(token: string): Promise<FakeTelegram> {
    const fake = new FakeTelegram(token);
    fake.#http = await FakeHttpServer.start((request, res) => fake.#handle(request, res));
    return fake;
  }

  /** The `apiRoot` to give grammY. */
  get url(): string {
    return this.#http.url;
  }

  /** A user's text message in a private chat, as Telegram delivers it (commands carry their entity). */
  pushMessage(chatId: number, text: string, from: { username?: string } = {}): number {
    const command = /^\/\S+/.exec(text);
    const update: Update = {
      update_id: this.#nextUpdate++,
      message: {
        message_id: this.#nextMessage++,
        date: Math.floor(Date.now() / 1000),
        chat: { id: chatId, type: 'private', first_name: 'Tester' },
        from: { id: chatId, is_bot: false, first_name: 'Tester', ...from },
        text,
        ...(command ? { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] } : {}),
      },
    };
    this.#updates.push(update);
    for (const wake of [...this.#waiters]) wake();
    return update.update_id;
  }

  /** The next calls of `method` fail with these answers, one each. */
  failNext(method: string, ...faults: Fault[]): void {
    this.#faults.set(method, [...(this.#faults.get(method) ?? []), ...faults]);
  }

  /** The chat's user blocked the bot: sending to it is 403 from now on. */
  block(chatId: number): void {
    this.#blocked.add(chatId);
  }

  /** Messages sent to one chat, in order. */
  sentTo(chatId: number): SentMessage[] {
    return this.sent.filter((m) => m.chat_id === chatId);
  }

  async close(): Promise<void> {
    for (const wake of [...this.#waiters]) wake();
    await this.#http.close();
  }

  async #handle(request: RecordedRequest, res: ServerResponse): Promise<void> {
    const match = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec(request.path);
    if (!match) return sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    if (match[1] !== this.#token)
      return sendJson(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = match[2]!;
    this.calls.push(method);
    const body = (request.body ?? {}) as Record<string, unknown>;
    const fault = this.#takeFault(method, body.chat_id);
    if (fault) return this.#fail(res, fault);
    switch (method) {
      case 'getMe':
        return ok(res, {
          id: 424242,
          is_bot: true,
          first_name: 'Agnes',
          username: FAKE_BOT_USERNAME,
          can_join_groups: true,
          can_read_all_group_messages: false,
          supports_inline_queries: false,
        });
      case 'deleteWebhook':
        return ok(res, true);
      case 'getUpdates':
        return ok(res, await this.#getUpdates(body));
      case 'sendMessage':
        return this.#sendMessage(body, res);
      default:
        return sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found: method not found' });
    }
  }

  #takeFault(method: string, chatId: unknown): Fault | undefined {
    const faults = this.#faults.get(method) ?? [];
    const index = faults.findIndex((f) => f.chat_id === undefined || f.chat_id === chatId);
    return index < 0 ? undefined : faults.splice(index, 1)[0];
  }

  async #getUpdates(body: Record<string, unknown>): Promise<Update[]> {
    const offset = typeof body.offset === 'number' ? body.offset : 0;
    if (offset > this.confirmedOffset) this.confirmedOffset = offset;
    const limit = typeof body.limit === 'number' ? body.limit : 100;
    const timeoutMs = (typeof body.timeout === 'number' ? body.timeout : 0) * 1000;
    // Telegram forgets confirmed updates for good.
    while (this.#updates.length > 0 && this.#updates[0]!.update_id < offset) this.#updates.shift();
    if (this.#updates.length === 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, timeoutMs);
        this.#waiters.add(wake);
      });
    }
    return this.#updates.slice(0, limit);
  }

  #sendMessage(body: Record<string, unknown>, res: ServerResponse): void {
    const chatId = Number(body.chat_id);
    if (this.#blocked.has(chatId)) {
      this.#fail(res, { status: 403, description: 'Forbidden: bot was blocked by the user' });
      return;
    }
    if (typeof body.text !== 'string' || body.text.length === 0) {
      this.#fail(res, { status: 400, description: 'Bad Request: message text is empty' });
      return;
    }
    const message: SentMessage = {
      chat_id: chatId,
      text: body.text,
      parse_mode: typeof body.parse_mode === 'string' ? body.parse_mode : undefined,
      message_id: this.#nextMessage++,
    };
    this.sent.push(message);
    ok(res, {
      message_id: message.message_id,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chatId, type: 'private' },
      text: message.text,
    });
  }

  #fail(res: ServerResponse, fault: Fault): void {
    const parameters =
      fault.retry_after === undefined ? {} : { parameters: { retry_after: fault.retry_after } };
    const headers: Record<string, string> =
      fault.retry_after === undefined ? {} : { 'retry-after': String(fault.retry_after) };
    sendJson(
      res,
      fault.status,
      { ok: false, error_code: fault.status, description: fault.description, ...parameters },
      headers,
    );
  }
}

function ok(res: ServerResponse, result: unknown): void {
  sendJson(res, 200, { ok: true, result });
}

import { timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { dropConnection, FakeHttpServer, header, type RecordedRequest, sendJson, wait } from './http.js';

/**
 * The two receivers of the app's outbox (08 §2, §3, §9), each a real HTTP server on 127.0.0.1
 * speaking the documented wire format: the Telegram bot's `POST /send` (bearer check, body
 * checks, 410 for a blocked chat, and the bot's own dedup by `notification_id`) and the WebSocket
 * gateway's `POST /dispatch` (answers `{sent}` with the sockets its user has open). Faults are
 * injectable per receiver.
 */

export interface ReceiverFault {
  /** Answer with this status (502 `telegram_error`, 500…) instead of handling the request. */
  status?: number;
  /** Close the connection without an answer. */
  drop?: boolean;
  /** Handle the request after this many milliseconds. */
  delayMs?: number;
  /** How many requests it hits; Infinity for all. */
  times: number;
}

export interface TelegramMessage {
  chat_id: number;
  text: string;
  notification_id: string;
}

export interface Dispatch {
  user_ids: string[];
  notification: {
    id: string;
    title: string;
    message: string;
    source_kind: string;
    source_id: string | null;
    created_at: string;
  };
}

export const DISPATCH_TOKEN = 'dispatch-token-0123456789-abcdefghijklmnop';

function bearerMatches(request: RecordedRequest, token: string): boolean {
  const given = Buffer.from(header(request, 'authorization') ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Applies the first matching fault; true when it answered (or dropped) the request itself. */
async function applyFault(faults: ReceiverFault[], res: ServerResponse): Promise<boolean> {
  const fault = faults.find((f) => f.times > 0);
  if (!fault) return false;
  fault.times -= 1;
  if (fault.delayMs) await wait(fault.delayMs);
  if (fault.drop) {
    dropConnection(res);
    return true;
  }
  if (fault.status) {
    sendJson(res, fault.status, { ok: false, error: 'telegram_error' });
    return true;
  }
  return false;
}

export class FakeNotificationReceivers {
  readonly telegramFaults: ReceiverFault[] = [];
  readonly gatewayFaults: ReceiverFault[] = [];
  /** Chats that blocked the bot: Telegram answers 403, the bot 410. */
  readonly blockedChats = new Set<number>();
  /** Open sockets per user id; a dispatch to anyone else reaches nobody (`sent: 0`). */
  readonly online = new Map<string, number>();
  /** Messages the bot really sent to Telegram, once per notification id (its dedup). */
  readonly sentMessages: TelegramMessage[] = [];
  /** Dispatches the gateway wrote to at least one socket. */
  readonly pushed: Dispatch[] = [];

  private constructor(
    readonly telegram: FakeHttpServer,
    readonly gateway: FakeHttpServer,
  ) {}

  static async start(token = DISPATCH_TOKEN): Promise<FakeNotificationReceivers> {
    let receivers!: FakeNotificationReceivers;
    const telegram = await FakeHttpServer.start((request, res) => receivers.handleSend(request, res, token));
    const gateway = await FakeHttpServer.start((request, res) =>
      receivers.handleDispatch(request, res, token),
    );
    receivers = new FakeNotificationReceivers(telegram, gateway);
    return receivers;
  }

  async close(): Promise<void> {
    await Promise.all([this.telegram.close(), this.gateway.close()]);
  }

  /** Every `/send` request's notification id, repeats included (before the bot's dedup). */
  get sendRequests(): string[] {
    return this.telegram.requests
      .filter((r) => r.path === '/send')
      .map((r) => String((r.body as TelegramMessage | null)?.notification_id));
  }

  /** Every `/dispatch` request's notification id, repeats included. */
  get dispatchRequests(): string[] {
    return this.gateway.requests
      .filter((r) => r.path === '/dispatch')
      .map((r) => String((r.body as Dispatch | null)?.notification?.id));
  }

  async handleSend(request: RecordedRequest, res: ServerResponse, token: string): Promise<void> {
    if (request.method !== 'POST' || request.path !== '/send') return sendJson(res, 404, { ok: false });
    if (!bearerMatches(request, token)) return sendJson(res, 401, { ok: false, error: 'unauthorized' });
    if (await applyFault(this.telegramFaults, res)) return;
    const body = request.body as Partial<TelegramMessage> & { parse_mode?: unknown };
    if (
      typeof body?.chat_id !== 'number' ||
      typeof body.text !== 'string' ||
      body.text.length > 4096 ||
      body.parse_mode !== 'HTML' ||
      typeof body.notification_id !== 'string'
    )
      return sendJson(res, 400, { ok: false, error: 'bad_request' });
    if (this.blockedChats.has(body.chat_id))
      return sendJson(res, 410, { ok: false, error: 'chat_unreachable' });
    const already = this.sentMessages.findIndex((m) => m.notification_id === body.notification_id);
    if (already < 0)
      this.sentMessages.push({
        chat_id: body.chat_id,
        text: body.text,
        notification_id: body.notification_id,
      });
    sendJson(res, 200, {
      ok: true,
      message_id: (already < 0 ? this.sentMessages.length : already + 1) + 1000,
    });
  }

  async handleDispatch(request: RecordedRequest, res: ServerResponse, token: string): Promise<void> {
    if (request.method !== 'POST' || request.path !== '/dispatch')
      return sendJson(res, 404, { detail: 'no route' });
    if (!bearerMatches(request, token)) return sendJson(res, 401, { detail: 'unauthorized' });
    if (await applyFault(this.gatewayFaults, res)) return;
    const body = request.body as Dispatch | null;
    if (!Array.isArray(body?.user_ids) || typeof body.notification?.id !== 'string')
      return sendJson(res, 400, { detail: 'bad request' });
    const sent = body.user_ids.reduce((n, id) => n + (this.online.get(id) ?? 0), 0);
    if (sent > 0) this.pushed.push(body);
    sendJson(res, 200, { sent });
  }
}

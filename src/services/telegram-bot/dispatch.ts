import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Value } from '@sinclair/typebox/value';
import { type TelegramSendRequest, TelegramSendRequestSchema } from '../../contract/index.js';
import type { Logger } from '../../core/jobs/logger.js';
import { bearerMatches, readCapped, replyJson as reply } from '../dispatch-endpoint.js';
import { DeliveredIds } from './delivered.js';

/** Bodies of `/send` are small; anything larger is refused unread (08 §9). */
export const MAX_SEND_BODY_BYTES = 64 * 1024;

/** What one message's delivery came to: the Telegram message, or a refusal for the app. */
export type DeliveryOutcome =
  | { ok: true; message_id: number }
  | { ok: false; status: 410; error: 'chat_unreachable' }
  | { ok: false; status: 502; error: 'telegram_error' };

export interface DispatchOptions {
  host: string;
  port: number;
  /** `AGNES_DISPATCH_TOKEN`: the app's Bearer credential. */
  token: string;
  deliver: (request: TelegramSendRequest) => Promise<DeliveryOutcome>;
  log: Logger;
  delivered?: DeliveredIds;
}

export interface DispatchServer {
  url: string;
  close(): Promise<void>;
}

class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
  ) {
    super(error);
  }
}

/** The outcome as a thrown value, so a refused delivery is not remembered as delivered. */
class Undelivered extends Error {
  constructor(readonly outcome: Extract<DeliveryOutcome, { ok: false }>) {
    super(outcome.error);
  }
}

async function readBody(request: IncomingMessage): Promise<string> {
  const body = await readCapped(request, MAX_SEND_BODY_BYTES);
  if (body === null) throw new Refusal(413, 'payload_too_large');
  return body.toString('utf8');
}

function parseSend(text: string): TelegramSendRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Refusal(400, 'bad_request');
  }
  if (!Value.Check(TelegramSendRequestSchema, body)) throw new Refusal(400, 'bad_request');
  return body;
}

/**
 * The bot's dispatch endpoint (08 §2, §9): `POST /send` delivers one notification to one chat for
 * the app's dispatcher, `GET /health` says the bot is up. Requests are logged by outcome only,
 * never with their text.
 */
export async function startDispatchServer(options: DispatchOptions): Promise<DispatchServer> {
  const delivered = options.delivered ?? new DeliveredIds();
  const { log } = options;

  async function send(request: IncomingMessage): Promise<{ ok: true; message_id: number }> {
    if (!bearerMatches(request.headers.authorization, options.token)) throw new Refusal(401, 'unauthorized');
    const body = parseSend(await readBody(request));
    try {
      const messageId = await delivered.once(body.notification_id, async () => {
        const outcome = await options.deliver(body);
        if (!outcome.ok) throw new Undelivered(outcome);
        return outcome.message_id;
      });
      log.info({ notification_id: body.notification_id, message_id: messageId }, 'notification delivered');
      return { ok: true, message_id: messageId };
    } catch (error) {
      if (!(error instanceof Undelivered)) throw error;
      log.warn(
        { notification_id: body.notification_id, error: error.outcome.error },
        'notification not delivered',
      );
      throw new Refusal(error.outcome.status, error.outcome.error);
    }
  }

  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/health' && (request.method === 'GET' || request.method === 'HEAD')) {
      reply(response, 200, { status: 'ok' });
      return;
    }
    if (path !== '/send') {
      reply(response, 404, { ok: false, error: 'not_found' });
      return;
    }
    if (request.method !== 'POST') {
      reply(response, 405, { ok: false, error: 'method_not_allowed' });
      return;
    }
    send(request).then(
      (body) => reply(response, 200, body),
      (error: unknown) => {
        if (error instanceof Refusal) {
          // An oversized body is not read to its end: close rather than drain it.
          if (error.status === 413) response.setHeader('connection', 'close');
          reply(response, error.status, { ok: false, error: error.error });
          return;
        }
        log.error({ err_name: error instanceof Error ? error.name : typeof error }, 'dispatch failed');
        reply(response, 502, { ok: false, error: 'telegram_error' });
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

import type { Notification } from '../state/repositories/index.js';
import { telegramText } from './telegram-text.js';

/**
 * One delivery attempt on one channel (08 §8, §9): the HTTP call to the Telegram bot's `/send` or
 * the WebSocket gateway's `/dispatch`, and what its answer means for the outbox. Errors name the
 * channel and a status or failure kind only: never the text, the token or the receiver's answer.
 */

export type ChannelOutcome =
  | { status: 'sent' | 'skipped' }
  /** Permanent: the bot cannot reach the chat (410). */
  | { status: 'failed'; error: string }
  /** Try again later: no answer, or an answer that is not a success. */
  | { status: 'retry'; error: string };

export interface ChannelEndpoint {
  /** The receiver's base URL (`telegram.dispatch_url`, `ws_gateway.dispatch_url`). */
  url: string;
  /** `notifications.dispatch_token`. */
  token: string;
  timeoutMs: number;
  fetch: typeof fetch;
}

interface Answer {
  status: number;
  body: unknown;
}

async function post(
  endpoint: ChannelEndpoint,
  path: string,
  body: unknown,
): Promise<Answer | 'timeout' | 'connection'> {
  try {
    const response = await endpoint.fetch(`${endpoint.url.replace(/\/+$/, '')}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(endpoint.timeoutMs),
    });
    const text = await response.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { status: response.status, body: parsed };
  } catch (error) {
    return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
      ? 'timeout'
      : 'connection';
  }
}

function unanswered(channel: string, answer: Answer | 'timeout' | 'connection'): ChannelOutcome {
  return {
    status: 'retry',
    error: `${channel}: ${typeof answer === 'string' ? answer : `status ${answer.status}`}`,
  };
}

/** `POST /send` to the bot: 200 sent, 410 the chat is gone for good, anything else is retried. */
export async function sendTelegram(
  endpoint: ChannelEndpoint,
  chatId: number,
  notification: Notification,
): Promise<ChannelOutcome> {
  const answer = await post(endpoint, '/send', {
    chat_id: chatId,
    text: telegramText(notification.title, notification.message),
    parse_mode: 'HTML',
    notification_id: notification.id,
  });
  if (typeof answer !== 'string' && answer.status === 200) return { status: 'sent' };
  if (typeof answer !== 'string' && answer.status === 410)
    return { status: 'failed', error: 'telegram: chat unreachable' };
  return unanswered('telegram', answer);
}

/** `POST /dispatch` to the gateway: sent when a socket took it, skipped when the user is offline. */
export async function dispatchWebsocket(
  endpoint: ChannelEndpoint,
  notification: Notification,
): Promise<ChannelOutcome> {
  const answer = await post(endpoint, '/dispatch', {
    user_ids: [notification.user_id],
    notification: {
      id: notification.id,
      title: notification.title,
      message: notification.message,
      source_kind: notification.source_kind,
      source_id: notification.source_id,
      created_at: notification.created_at,
    },
  });
  if (typeof answer === 'string' || answer.status !== 200) return unanswered('websocket', answer);
  const sent = (answer.body as { sent?: unknown } | null)?.sent;
  if (typeof sent !== 'number' || !Number.isInteger(sent) || sent < 0)
    return { status: 'retry', error: 'websocket: unexpected answer' };
  return { status: sent > 0 ? 'sent' : 'skipped' };
}

/**
 * The live bell (08 §3): fetches a single-use ticket, opens the WebSocket gateway, answers its
 * pings, and counts each pushed notification on `#notification-bell` (`data-unread-count`). A
 * lost connection is reopened with a fresh ticket after a growing, jittered pause.
 */

import type { WsServerMessage, WsTicketResponse } from '../../../contract/index.js';
import { api } from './forms.js';

const FIRST_RETRY_MS = 1_000;
const LAST_RETRY_MS = 60_000;

/** Statuses after which asking again cannot help: signed out, not allowed, gateway not configured. */
const FINAL_STATUSES = new Set([400, 401, 403, 503]);

/** Counts one more unread notification on the header's bell: its attribute, label and badge. */
function bump(bell: HTMLElement, notification: Extract<WsServerMessage, { type: 'notification' }>): void {
  const count = Number.parseInt(bell.dataset.unreadCount ?? '0', 10);
  const unread = (Number.isFinite(count) ? count : 0) + 1;
  bell.dataset.unreadCount = String(unread);
  bell.setAttribute('aria-label', `Notifications: ${unread} unread`);
  const badge = bell.querySelector<HTMLElement>('[data-unread-badge]');
  if (badge) {
    badge.textContent = unread > 99 ? '99+' : String(unread);
    badge.hidden = false;
  }
  // The event lets a page show the notification itself.
  bell.dispatchEvent(new CustomEvent('agnes:notification', { detail: notification, bubbles: true }));
}

function start(bell: HTMLElement): void {
  let delay = FIRST_RETRY_MS;

  const retry = () => {
    const wait = delay / 2 + Math.random() * (delay / 2);
    delay = Math.min(delay * 2, LAST_RETRY_MS);
    window.setTimeout(() => void connect(), wait);
  };

  const connect = async () => {
    let ticket: WsTicketResponse;
    try {
      const result = await api('POST', '/api/notifications/ws-ticket');
      if (!result.ok) {
        if (!FINAL_STATUSES.has(result.status)) retry();
        return;
      }
      ticket = result.data as unknown as WsTicketResponse;
    } catch {
      retry();
      return;
    }
    const socket = new WebSocket(ticket.url);
    socket.addEventListener('open', () =>
      socket.send(JSON.stringify({ type: 'auth', token: ticket.ticket })),
    );
    socket.addEventListener('message', (event) => {
      let message: WsServerMessage;
      try {
        message = JSON.parse(String(event.data)) as WsServerMessage;
      } catch {
        return;
      }
      if (message.type === 'auth_ok') delay = FIRST_RETRY_MS;
      else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong', ts: message.ts }));
      else if (message.type === 'notification') bump(bell, message);
    });
    socket.addEventListener('close', retry);
  };

  void connect();
}

const bell = document.getElementById('notification-bell');
if (bell) start(bell);

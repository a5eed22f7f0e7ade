import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp, Timestamp } from './common.js';

/**
 * The WebSocket gateway's shapes (08 §3, §9; 03 §17 `ws-ticket` and `ws-check`): the two app
 * routes it uses, its dispatch endpoint, and the messages on the socket.
 */

/** `POST /api/notifications/ws-ticket`: a single-use JWT for the browser's first socket message. */
export const WsTicketResponseSchema = Type.Object({
  ticket: Type.String(),
  expires_at: Timestamp,
  /** `ws_gateway.public_url`, where the browser connects. */
  url: Type.String(),
});
export type WsTicketResponse = Static<typeof WsTicketResponseSchema>;

export const CredentialKindSchema = Type.Union([
  Type.Literal('jwt'),
  Type.Literal('pat'),
  Type.Literal('ws_ticket'),
]);
export type CredentialKind = Static<typeof CredentialKindSchema>;

/** One open socket as `GET /auth/me` described it at connect (`auth.method`, `auth.token_id`, …). */
export const WsConnectionSchema = Type.Object(
  {
    user_id: Type.String({ minLength: 1, maxLength: 64 }),
    credential_kind: CredentialKindSchema,
    credential_id: Type.String({ minLength: 1, maxLength: 64 }),
    issued_at: Timestamp,
    expires_at: NullableTimestamp,
  },
  { additionalProperties: false },
);
export type WsConnection = Static<typeof WsConnectionSchema>;

export const WS_CHECK_MAX_CONNECTIONS = 10_000;

export const WsCheckBodySchema = Type.Object(
  { connections: Type.Array(WsConnectionSchema, { maxItems: WS_CHECK_MAX_CONNECTIONS }) },
  { additionalProperties: false },
);
export type WsCheckBody = Static<typeof WsCheckBodySchema>;

/** One flag per connection, in the order asked. */
export const WsCheckResponseSchema = Type.Object({ valid: Type.Array(Type.Boolean()) });
export type WsCheckResponse = Static<typeof WsCheckResponseSchema>;

/** What the gateway pushes for one notification (08 §3). */
export const WsNotificationSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 64 }),
    title: Type.String({ maxLength: 1000 }),
    message: Type.String({ maxLength: 20_000 }),
    source_kind: Type.String({ maxLength: 64 }),
    source_id: NullableString,
    created_at: Type.String({ maxLength: 64 }),
    url: Type.Optional(NullableString),
  },
  { additionalProperties: false },
);
export type WsNotification = Static<typeof WsNotificationSchema>;

/** `POST /dispatch` on the gateway's dispatch port (08 §9), at most 64 KiB. */
export const WsDispatchBodySchema = Type.Object(
  {
    user_ids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 10_000 }),
    notification: WsNotificationSchema,
  },
  { additionalProperties: false },
);
export type WsDispatchBody = Static<typeof WsDispatchBodySchema>;

export interface WsDispatchResponse {
  /** Sockets the notification was written to. */
  sent: number;
}

/** Messages the gateway sends (08 §3). */
export type WsServerMessage =
  | { type: 'auth_ok'; user_id: string; email: string }
  | { type: 'auth_error'; message: string }
  | { type: 'ping'; ts: number }
  | { type: 'error'; message: string }
  | ({ type: 'notification'; url: string | null } & Omit<WsNotification, 'url'>);

/** Messages a client sends. */
export type WsClientMessage = { type: 'auth'; token: string } | { type: 'pong'; ts: number };

/** Close codes of the gateway (08 §3). */
export const WS_CLOSE = {
  goingAway: 1001,
  tooBig: 1009,
  heartbeat: 4000,
  invalidAuth: 4001,
  authTimeout: 4008,
  tooMany: 4029,
} as const;

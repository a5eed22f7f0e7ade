import {
  type WsCheckBody,
  WsCheckBodySchema,
  WsCheckResponseSchema,
  WsTicketResponseSchema,
} from '../../contract/index.js';
import { AgnesError } from '../../core/errors.js';
import { checkWsConnections } from '../../core/usecases/ws-check.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors } from '../schemas.js';

/** A full `ws-check` batch (10,000 connections of about 200 bytes) is larger than the default body limit. */
const WS_CHECK_BODY_LIMIT = 4 * 1024 * 1024;

/** The WebSocket gateway's two app routes (03 §17, 08 §3 and §9): tickets for browsers, re-checks. */
export async function notificationsWsRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx, jwt } = services;

  app.post(
    '/api/notifications/ws-ticket',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['notifications'],
        summary: 'A single-use, 60-second ticket that authenticates a WebSocket to the gateway',
        response: { 200: WsTicketResponseSchema, ...errors(400, 401, 403, 503) },
      },
    },
    async (request) => {
      const auth = request.auth!;
      request.audit.action = 'notifications.ws_ticket';
      const url = ctx.config.ws_gateway.public_url;
      if (!url) throw new AgnesError('not_configured', 'live notifications are not configured');
      // A ticket names the session it came from, and the gateway re-checks that session later; a
      // personal access token needs no ticket, since it can authenticate the socket itself.
      if (auth.method !== 'jwt')
        throw new AgnesError(
          'bad_request',
          'tickets are issued to signed-in sessions; send the personal access token to the gateway instead',
        );
      // Wall-clock time, as every JWT is signed and verified (04 §2).
      const issued = await jwt.signTicket({
        sub: auth.principal.id,
        jti: auth.tokenId,
        iat: Date.parse(auth.issuedAt) / 1000,
        exp: Date.parse(auth.expiresAt!) / 1000,
      });
      return { ticket: issued.token, expires_at: new Date(issued.claims.exp * 1000).toISOString(), url };
    },
  );

  app.post(
    '/api/notifications/ws-check',
    {
      bodyLimit: WS_CHECK_BODY_LIMIT,
      config: { auth: 'service' },
      schema: {
        tags: ['notifications'],
        summary: "Whether each open WebSocket's user and credential are still valid",
        body: WsCheckBodySchema,
        response: { 200: WsCheckResponseSchema, ...errors(401, 403, 413, 422) },
      },
    },
    async (request) => {
      request.audit.action = 'notifications.ws_check';
      const body: WsCheckBody = request.body;
      return { valid: await checkWsConnections(ctx.repos, body.connections, ctx.clock.now()) };
    },
  );
}

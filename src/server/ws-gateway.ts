import { isAgnesError } from '../core/errors.js';
import { checkWsConnections } from '../core/usecases/ws-check.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Service } from '../runtime/services.js';
import { type GatewayPort, gatewaySettings, identityOf, WsGateway } from '../services/ws-gateway/index.js';
import { JwtService } from './auth/jwt.js';
import { Authenticator } from './auth/principal.js';

/**
 * The gateway's port inside `agnes serve` (`ws_gateway.in_process`): the app's own authenticator
 * answers as `GET /auth/me` would (tickets are spent the same way) and the use case behind
 * `ws-check` re-checks, with no HTTP and no service token.
 */
export function inProcessGatewayPort(services: {
  authenticator: Authenticator;
  ctx: Pick<Runtime, 'repos' | 'clock'>;
}): GatewayPort {
  const { authenticator, ctx } = services;
  return {
    async authenticate(token, ip) {
      try {
        const auth = await authenticator.bearer(token, ip, { wsTicket: true });
        return identityOf({
          id: auth.user.id,
          email: auth.user.email,
          auth: {
            method: auth.method,
            via: auth.via,
            issued_at: auth.issuedAt,
            expires_at: auth.expiresAt,
            token_id: auth.tokenId,
          },
        });
      } catch (error) {
        if (isAgnesError(error) && error.status === 401) return null;
        throw error;
      }
    },
    check: (connections) => checkWsConnections(ctx.repos, connections, ctx.clock.now()),
  };
}

/**
 * The runtime's gateway service when `ws_gateway.in_process` is on (started with `agnes serve`).
 * It has an authenticator of its own over the same state store: tickets are spent and sessions
 * revoked in the store, so it and the app's agree.
 */
export function wsGatewayServices(runtime: Runtime): Service[] {
  const { config } = runtime;
  if (!config.ws_gateway.in_process) return [];
  const authenticator = new Authenticator(
    runtime.repos,
    new JwtService(runtime.secrets, config.auth.jwt_ttl_hours),
  );
  const gateway = new WsGateway(
    gatewaySettings(config.ws_gateway, config.notifications.dispatch_token),
    inProcessGatewayPort({ authenticator, ctx: runtime }),
    runtime.log.child({ service: 'ws-gateway' }),
  );
  return [{ name: 'ws-gateway', start: () => gateway.start(), stop: () => gateway.stop() }];
}

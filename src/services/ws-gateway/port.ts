import type { MeResponse, WsConnection } from '../../contract/index.js';

/** Who an accepted socket belongs to, and the credential the gateway re-checks later. */
export interface GatewayIdentity {
  email: string;
  connection: WsConnection;
}

/**
 * What the gateway needs from the app (08 §3): whether a client's token is good, and whether the
 * credentials of open sockets still are. `agnes ws-gateway` asks over HTTP with its service
 * account; inside `agnes serve` the app's own authenticator answers.
 */
export interface GatewayPort {
  /** The identity behind a PAT, session JWT or WS ticket; null when the app refuses the token. */
  authenticate(token: string, ip: string): Promise<GatewayIdentity | null>;
  /** One flag per connection, in order; at most 10,000 per call. */
  check(connections: readonly WsConnection[]): Promise<boolean[]>;
}

/** The identity as `GET /auth/me` reports it (03 §17: `credential_kind` = `auth.method`, …). */
export function identityOf(me: Pick<MeResponse, 'id' | 'email' | 'auth'>): GatewayIdentity {
  return {
    email: me.email,
    connection: {
      user_id: me.id,
      credential_kind: me.auth.method,
      credential_id: me.auth.token_id,
      issued_at: me.auth.issued_at,
      expires_at: me.auth.expires_at,
    },
  };
}

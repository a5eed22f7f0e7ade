import type { InstanceConfig } from '../../core/config/index.js';

/** The gateway's settings in the units it uses; tests shorten the intervals. */
export interface GatewaySettings {
  host: string;
  port: number;
  /** Normalised origins a browser may connect from (08 §9); a client without `Origin` is accepted. */
  allowedOrigins: ReadonlySet<string>;
  dispatchHost: string;
  dispatchPort: number;
  /** Without one the dispatch endpoint is not started (fail closed). */
  dispatchToken: string | null;
  maxConnectionsPerUser: number;
  heartbeatMs: number;
  missedHeartbeats: number;
  authTimeoutMs: number;
  recheckMs: number;
  /** A socket whose unsent data exceeds this is dropped rather than buffered without bound. */
  maxBufferedBytes: number;
  failedAuthLimit: number;
  failedAuthWindowMs: number;
}

/** A slow client may lag one megabyte behind before it is dropped. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

/** `https://x.example/path` → `https://x.example`; a value that is no URL (`null`) matches nothing. */
function originOf(value: string): string | null {
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

export function normaliseOrigin(value: string): string | null {
  return originOf(value.trim());
}

export function gatewaySettings(
  ws: InstanceConfig['ws_gateway'],
  dispatchToken: string | null | undefined,
): GatewaySettings {
  const origins = (ws.allowed_origins ?? []).map(normaliseOrigin).filter((o): o is string => o !== null);
  return {
    host: ws.host,
    port: ws.port,
    allowedOrigins: new Set(origins),
    dispatchHost: ws.dispatch_host,
    dispatchPort: ws.dispatch_port,
    dispatchToken: dispatchToken || null,
    maxConnectionsPerUser: ws.max_connections_per_user,
    heartbeatMs: ws.heartbeat_seconds * 1000,
    missedHeartbeats: ws.missed_heartbeats,
    authTimeoutMs: ws.auth_timeout_seconds * 1000,
    recheckMs: ws.recheck_seconds * 1000,
    maxBufferedBytes: MAX_BUFFERED_BYTES,
    failedAuthLimit: 10,
    failedAuthWindowMs: 60_000,
  };
}

import type { MeResponse, WsCheckResponse } from '../../contract/index.js';
import { HttpFailure } from '../../core/http/retry.js';
import { type GatewayPort, gatewaySettings, identityOf, WsGateway } from '../../services/ws-gateway/index.js';
import { loadInstance } from '../instance.js';
import { ServiceClient, type ServiceEndpoint, ServiceRefusal, serviceEndpoint } from '../service-client.js';
import { exitAfterStop, stopSignal } from '../service-process.js';

const AUTH_TIMEOUT_MS = 10_000;

/** What the app's refusals of the gateway's own token mean (08 §3: a viewer service account). */
function explained(error: unknown): unknown {
  if (!(error instanceof ServiceRefusal)) return error;
  if (error.status === 401)
    return new Error('the app refused the gateway token (401); it is re-read from AGNES_TOKEN_FILE');
  if (error.status === 403)
    return new Error("the gateway's token is not a service account's personal access token (403)");
  return error;
}

/**
 * The gateway's view of the app over HTTP: a client's token goes to `GET /auth/me` as that
 * client's own Bearer (the app spends a ticket there), and re-checks go to `ws-check` with the
 * gateway's service-account token.
 */
export function httpGatewayPort(endpoint: ServiceEndpoint, client: ServiceClient): GatewayPort {
  return {
    async authenticate(token) {
      let response: Response;
      try {
        response = await fetch(`${endpoint.apiUrl}/auth/me`, {
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          signal: AbortSignal.timeout(AUTH_TIMEOUT_MS),
        });
      } catch {
        throw new HttpFailure('connection', null, 'GET /auth/me: cannot reach the app');
      }
      if (response.status === 401 || response.status === 403) {
        await response.body?.cancel();
        return null;
      }
      const body: unknown = await response.json().catch(() => null);
      if (!response.ok || !isMe(body))
        throw new HttpFailure('status', response.status, `GET /auth/me answered ${response.status}`);
      return identityOf(body);
    },
    async check(connections) {
      try {
        const answer = (await client.post('/api/notifications/ws-check', { connections })) as WsCheckResponse;
        return answer.valid;
      } catch (error) {
        throw explained(error);
      }
    },
  };
}

/**
 * The fields of `GET /auth/me` the gateway uses. Checked by hand: TypeBox's `Value.Check` knows
 * no string formats (`date-time`, `email`) unless they are registered, and this process need not.
 */
function isMe(body: unknown): body is Pick<MeResponse, 'id' | 'email' | 'auth'> {
  const me = body as Partial<MeResponse> | null;
  const auth = me?.auth;
  return (
    typeof me?.id === 'string' &&
    typeof me.email === 'string' &&
    auth !== undefined &&
    ['jwt', 'pat', 'ws_ticket'].includes(auth.method) &&
    typeof auth.token_id === 'string' &&
    typeof auth.issued_at === 'string' &&
    (auth.expires_at === null || typeof auth.expires_at === 'string')
  );
}

/**
 * `agnes ws-gateway` (08 §3): the WebSocket gateway as its own process. It reads `instance.yaml`
 * for its settings, asks the app over HTTP with a service account's token (`AGNES_API_URL`,
 * `AGNES_TOKEN` or `AGNES_TOKEN_FILE`), takes dispatches with `AGNES_DISPATCH_TOKEN`, and never
 * opens the state store.
 */
export async function wsGatewayCommand(): Promise<never> {
  const instance = loadInstance({ syncLogs: true });
  const { config } = instance.loaded;
  const endpoint = serviceEndpoint(instance.env);
  const log = instance.log.child({ service: 'ws-gateway' });
  const gateway = new WsGateway(
    gatewaySettings(config.ws_gateway, config.notifications.dispatch_token),
    httpGatewayPort(endpoint, new ServiceClient(endpoint)),
    log,
  );
  const signal = stopSignal();
  await gateway.start();
  log.info({ signal: await signal }, 'ws gateway stopping');
  return exitAfterStop(log, 'ws gateway', () => gateway.stop());
}

import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { InstanceConfig } from '../../core/config/index.js';

/** `preferred` when it is free on `host`, else a port the system picks (a second demo, a test run). */
function availablePort(host: string, preferred: number): Promise<number> {
  const probe = (port: number) =>
    new Promise<number | null>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(null));
      server.listen(port, host, () => {
        const bound = server.address();
        server.close(() => resolve(typeof bound === 'object' && bound ? bound.port : null));
      });
    });
  return probe(preferred).then(async (port) => port ?? (await probe(0)) ?? preferred);
}

/**
 * The demo's live bell (08 §3): unless `instance.yaml` configures the gateway, `agnes demo` runs
 * it inside the server on its default ports (others when those are taken), lets the demo's own pages connect, and gives the
 * dispatch endpoint a token of this run.
 */
export async function withLiveNotifications(
  config: InstanceConfig,
  host: string,
  webPort: number,
): Promise<InstanceConfig> {
  if (config.ws_gateway.public_url) return config;
  const ws = config.ws_gateway;
  const port = await availablePort(host, ws.port);
  const dispatchPort = await availablePort(ws.dispatch_host, ws.dispatch_port);
  const origins = [`http://${host}:${webPort}`, `http://localhost:${webPort}`, `http://127.0.0.1:${webPort}`];
  return {
    ...config,
    ws_gateway: {
      ...ws,
      in_process: true,
      host,
      port,
      dispatch_port: dispatchPort,
      dispatch_url: `http://${ws.dispatch_host}:${dispatchPort}`,
      public_url: `ws://${host}:${port}/ws`,
      allowed_origins: [...new Set([...(ws.allowed_origins ?? []), ...origins])],
    },
    notifications: {
      ...config.notifications,
      dispatch_token: config.notifications.dispatch_token ?? randomBytes(32).toString('base64url'),
    },
  };
}

import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import type { InstanceConfig } from '../../core/config/index.js';
import type { AgnesApp } from '../app.js';

/**
 * Headers of 04 §4.4 on every response, and CORS only for listed origins. Styles need a
 * per-response nonce (the theme block); scripts come from our own origin only.
 */
export async function registerSecurityHeaders(app: AgnesApp, config: InstanceConfig): Promise<void> {
  const https = config.server.public_url?.startsWith('https:') === true;
  const wsOrigin = config.ws_gateway.public_url ? new URL(config.ws_gateway.public_url).origin : null;
  await app.register(helmet, {
    enableCSPNonces: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: wsOrigin ? ["'self'", wsOrigin] : ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        formAction: ["'self'"],
      },
    },
    strictTransportSecurity: https ? { maxAge: 31_536_000, includeSubDomains: false } : false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  if (config.server.cors_origins.length > 0) {
    await app.register(cors, { origin: [...config.server.cors_origins], credentials: true });
  }
}

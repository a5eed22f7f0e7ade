import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import helmet, { type HelmetOptions } from 'helmet';
import type { InstanceConfig } from '../../core/config/index.js';
import type { AgnesApp } from '../app.js';

/** The header set helmet would write, captured once: our policy has no per-request parts. */
function staticHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: unknown) => {
      headers[name] = String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name];
    },
  };
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, () => undefined);
  return headers;
}

/**
 * Headers of 04 §4.4 on every response, and CORS only for listed origins. Scripts come from our
 * own origin only. The policy is computed once with helmet and set as one header block (the
 * Fastify plugin rebuilds helmet on every request); HTML pages add their per-response style nonce
 * themselves (`web/render.ts`).
 */
export function securityHeaders(config: InstanceConfig): Record<string, string> {
  const https = config.server.public_url?.startsWith('https:') === true;
  const wsOrigin = config.ws_gateway.public_url ? new URL(config.ws_gateway.public_url).origin : null;
  return staticHeaders({
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
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'same-origin' },
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginEmbedderPolicy: false,
    crossOriginResourcePolicy: { policy: 'same-origin' },
    // Legacy headers of no use to current browsers: left out, they only add bytes to every response.
    xXssProtection: false,
    xDownloadOptions: false,
    xDnsPrefetchControl: false,
    xPermittedCrossDomainPolicies: false,
    originAgentCluster: false,
  });
}

/** CORS only for the listed origins, with credentials; off when none are configured. */
export async function registerCors(app: AgnesApp, config: InstanceConfig): Promise<void> {
  if (config.server.cors_origins.length > 0) {
    await app.register(cors, { origin: [...config.server.cors_origins], credentials: true });
  }
}

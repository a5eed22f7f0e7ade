import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { healthRoutes } from './api/health.js';
import type { AppContext } from './context.js';
import { registerErrorHandling } from './errors.js';
import { HealthMonitor } from './health-monitor.js';

export type AgnesApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Auth label of a route (03 §0.1); every route declares one. */
export type AuthLabel = 'anon' | 'user' | 'analyst+' | 'km_admin+' | 'admin' | 'service' | 'owner' | 'hmac';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AuthLabel;
  }
}

const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Builds the app without listening: `agnes serve` listens, tests use `inject()` or port 0. */
export async function buildApp(ctx: AppContext): Promise<AgnesApp> {
  const app = Fastify({
    loggerInstance: ctx.log,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    bodyLimit: ctx.config.server.body_limit_bytes,
    requestTimeout: ctx.config.server.request_timeout_seconds * 1000,
    trustProxy: ctx.config.server.trust_proxy,
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    },
    // Malformed URLs fail before routing and hooks; without this Fastify answers in its own format,
    // echoing the path and without X-Request-Id (03 §0.2).
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const requestId = String(request.id);
      const client = (error.statusCode ?? 500) < 500;
      void reply
        .header('X-Request-Id', requestId)
        .status(client ? 400 : 500)
        .send(
          client
            ? { detail: 'bad request', code: 'bad_request', request_id: requestId }
            : { detail: 'internal error', code: 'internal_error', request_id: requestId },
        );
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as AgnesApp;

  app.addHook('onRequest', async (request, reply) => {
    reply.header('X-Request-Id', request.id);
  });
  registerErrorHandling(app);
  const monitor = new HealthMonitor(ctx);
  await app.register(async (scope) => healthRoutes(scope as AgnesApp, { monitor, version: ctx.version }));
  return app;
}

import { randomBytes } from 'node:crypto';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type {} from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { stateDialect } from '../core/state/db.js';
import type { Role } from '../core/state/schema.js';
import type { Runtime } from '../runtime/runtime.js';
import { accessRequestRoutes } from './api/access-requests.js';
import { alertRoutes } from './api/alerts.js';
import { auditRoutes } from './api/audit.js';
import { authRoutes } from './api/auth.js';
import { catalogRoutes } from './api/catalog.js';
import { dataRoutes } from './api/data.js';
import { groupRoutes } from './api/groups.js';
import { healthRoutes } from './api/health.js';
import { jiraRoutes } from './api/jira.js';
import { jiraWebhookRoutes } from './api/jira-webhooks.js';
import { maintenanceRoutes } from './api/maintenance.js';
import { mcpRoutes } from './api/mcp.js';
import { memoryRoutes } from './api/memory.js';
import { memoryImportRoutes } from './api/memory-import.js';
import { notificationRoutes } from './api/notifications.js';
import { notificationsWsRoutes } from './api/notifications-ws.js';
import { openApiRoutes } from './api/openapi.js';
import { permissionRoutes } from './api/permissions.js';
import { policyRoutes } from './api/policies.js';
import { queryRoutes } from './api/query.js';
import { registryRoutes } from './api/registry.js';
import { schedulerRoutes } from './api/scheduler.js';
import { scriptRoutes } from './api/scripts.js';
import { settingsRoutes } from './api/settings.js';
import { syncRoutes } from './api/sync.js';
import { telegramRoutes } from './api/telegram.js';
import { tokenRoutes } from './api/tokens.js';
import { uploadRoutes } from './api/upload.js';
import { userRoutes } from './api/users.js';
import type { AppServices } from './app-services.js';
import { JwtService } from './auth/jwt.js';
import { deriveKey } from './auth/keys.js';
import { Mailer } from './auth/mailer.js';
import { Authenticator } from './auth/principal.js';
import { GoogleLogin } from './auth/providers/google.js';
import { clientErrorHandler } from './client-errors.js';
import { registerErrorHandling } from './errors.js';
import { HealthMonitor } from './health-monitor.js';
import { registerAudit } from './plugins/audit.js';
import { CsrfProtection } from './plugins/csrf.js';
import { registerOpenApi } from './plugins/openapi.js';
import { EmailLimiter, limitOf, registerRateLimits, type WindowCounters } from './plugins/rate-limits.js';
import { registerRouteAuth } from './plugins/route-auth.js';
import { addRouteHook, isMutating } from './plugins/route-hooks.js';
import { registerCors, securityHeaders } from './plugins/security-headers.js';
import { registerValidation } from './plugins/validation.js';
import { htmlErrors } from './web/errors.js';
import { webRoutes } from './web/routes.js';
import { staticRoutes } from './web/static.js';

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
    /** Who may call the route (03 §0.1); required on every route. */
    auth?: AuthLabel;
    /** For `service` routes: the service account's minimum role. */
    serviceRole?: Role;
    /** Audit action of a read worth recording (04 §8); writes are always recorded. */
    audit?: string;
    /** Record the read only when it delivered data (2xx). */
    auditSuccessOnly?: boolean;
    /** Anonymous web form that needs CSRF protection against login CSRF. */
    csrf?: 'form';
    /** Only an `Authorization: Bearer` credential counts; the session cookie is ignored (`/mcp`). */
    bearerOnly?: boolean;
    /** The handler writes its own audit entries (one per MCP tool call), not one per request. */
    selfAudited?: boolean;
    /** A WebSocket ticket is accepted as the Bearer credential, and spent (`GET /auth/me` only, 08 §9). */
    wsTicket?: boolean;
  }
}

const REQUEST_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Request ids: a random per-process prefix and a counter, unique without a UUID per request. */
const REQUEST_ID_PREFIX = randomBytes(6).toString('base64url');
let requestCounter = 0;
function nextRequestId(): string {
  requestCounter += 1;
  return `${REQUEST_ID_PREFIX}-${requestCounter.toString(36)}`;
}

function services(ctx: Runtime): AppServices {
  const { config, secrets, repos } = ctx;
  const jwt = new JwtService(secrets, config.auth.jwt_ttl_hours);
  return {
    ctx,
    jwt,
    authenticator: new Authenticator(repos, jwt),
    csrf: new CsrfProtection(
      deriveKey(secrets.current, 'csrf'),
      new URL(config.server.public_url ?? 'http://localhost').origin,
    ),
    mailer: Mailer.fromConfig(config.email),
    google: new GoogleLogin(config, repos, deriveKey(secrets.current, 'oidc-state')),
    limits: {
      loginPerEmail: new EmailLimiter(
        'login_per_email',
        limitOf(config, 'login_per_email'),
        sharedCounters(ctx),
      ),
      mailPerEmail: new EmailLimiter(
        'mail_per_email',
        limitOf(config, 'mail_per_email'),
        sharedCounters(ctx),
      ),
    },
  };
}

/**
 * Where rate limits count (13 §3): in the state store when it is PostgreSQL, which replicas may
 * share; in this process's memory on SQLite (undefined), where there is one process by design.
 */
function sharedCounters(ctx: Runtime): WindowCounters | undefined {
  return stateDialect(ctx.db) === 'postgres' ? ctx.repos.rateLimits : undefined;
}

export interface AppOptions {
  /**
   * Start the runtime's services when the app is ready (default). Tests that drive jobs by hand
   * leave them stopped; the app still stops them and closes the runtime when it closes.
   */
  startServices?: boolean;
}

/**
 * Builds the app without listening: `agnes serve` listens, tests use `inject()` or port 0. The app
 * owns the runtime's lifetime from here: ready starts its services, `app.close()` stops them
 * (before in-flight requests drain, so running queries and jobs are interrupted rather than
 * waited for) and closes the state store once the last request has finished.
 */
export async function buildApp(ctx: Runtime, options: AppOptions = {}): Promise<AgnesApp> {
  const { config } = ctx;
  const app = Fastify({
    loggerInstance: ctx.log,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 256 },
    bodyLimit: config.server.body_limit_bytes,
    requestTimeout: config.server.request_timeout_seconds * 1000,
    trustProxy: config.server.trust_proxy,
    requestIdHeader: false,
    clientErrorHandler: clientErrorHandler(securityHeaders(config), nextRequestId),
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : nextRequestId();
    },
    frameworkErrors: (error, request, reply) => {
      // Malformed URLs and the like never reach the error handler: answer in our format anyway.
      reply.header('X-Request-Id', request.id);
      // A path parameter longer than the router allows names nothing that exists (03 §5 data download: ids that
      // fail their pattern are 404, and 414 is not among the statuses of 03 §0.2).
      if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
        void (reply as FastifyReply)
          .status(404)
          .send({ detail: 'not found', code: 'not_found', request_id: String(request.id) });
        return;
      }
      const status =
        error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      void (reply as FastifyReply)
        .status(status)
        .send({ detail: 'bad request', code: 'bad_request', request_id: String(request.id) });
    },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as AgnesApp;

  const shared = services(ctx);
  const headers = securityHeaders(config);
  // One synchronous hook for what every response carries (04 §4.4, 03 §0.2 error format).
  app.addHook('onRequest', (request, reply, done) => {
    reply.headers(headers);
    reply.header('X-Request-Id', request.id);
    done();
  });
  if (options.startServices ?? true) app.addHook('onReady', () => ctx.start());
  app.addHook('preClose', () => ctx.stop());
  app.addHook('onClose', async () => {
    shared.mailer?.close();
    await ctx.close();
  });
  registerValidation(app);
  registerErrorHandling(app, htmlErrors(shared));
  await app.register(cookie, { hook: false });
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  await registerCors(app, config);
  registerRouteAuth(app, shared.authenticator);
  await registerRateLimits(app, config, sharedCounters(ctx));
  registerAudit(app, ctx.repos);
  // Cookie-authenticated writes and the anonymous web forms carry the CSRF token (04 §4.2).
  const verifyCsrf = async (request: FastifyRequest) => {
    const cookieAuth = request.auth?.via === 'cookie';
    const webForm =
      request.routeOptions.config?.csrf === 'form' &&
      request.headers['content-type']?.startsWith('application/x-www-form-urlencoded');
    if (cookieAuth || webForm) shared.csrf.verify(request);
  };
  app.addHook('onRoute', (route) => {
    if (isMutating(route)) addRouteHook(route, 'preHandler', verifyCsrf);
  });
  if (config.server.docs) {
    await registerOpenApi(app, { title: config.instance.name, version: ctx.version });
    await app.register(async (scope) => openApiRoutes(scope as AgnesApp));
  }

  const monitor = new HealthMonitor(ctx);
  await app.register(async (scope) =>
    healthRoutes(scope as AgnesApp, {
      monitor,
      version: ctx.version,
      repos: ctx.repos,
      jira: ctx.push.get('jira'),
    }),
  );
  await app.register(async (scope) => authRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => tokenRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => userRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => groupRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => permissionRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => accessRequestRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => settingsRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => syncRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => registryRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => schedulerRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => dataRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => auditRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => catalogRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => uploadRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => queryRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => mcpRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => notificationRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => jiraWebhookRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => jiraRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => maintenanceRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => alertRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => telegramRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => scriptRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => memoryRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => notificationsWsRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => memoryImportRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => policyRoutes(scope as AgnesApp, shared));
  await app.register(async (scope) => staticRoutes(scope as AgnesApp));
  await app.register(async (scope) => webRoutes(scope as AgnesApp, shared));
  return app;
}

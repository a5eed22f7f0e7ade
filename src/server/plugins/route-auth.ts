import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { hasRole } from '../../core/access/roles.js';
import { AgnesError } from '../../core/errors.js';
import type { Role } from '../../core/state/schema.js';
import type { AgnesApp, AuthLabel } from '../app.js';
import type { Authentication, Authenticator } from '../auth/principal.js';
import { DOCS_PREFIX } from './openapi.js';
import { addRouteHook } from './route-hooks.js';

export interface RouteEntry {
  method: string;
  url: string;
  auth: AuthLabel;
  /** For `service` routes: the service account's minimum role, if any. */
  serviceRole?: Role;
  /** Whether the route validates a JSON body (so unknown fields must be refused). */
  hasBody: boolean;
  /** Left out of OpenAPI: HTML pages, static files and link landing pages. */
  hidden: boolean;
  /** A server-rendered page: refusals are a sign-in redirect or an HTML page, never JSON (09 §1 rules common to all pages). */
  page: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route with its auth label, in registration order: the source of the route × role tests. */
    agnesRoutes: RouteEntry[];
  }
  interface FastifyRequest {
    /** The resolved caller, or null on anonymous routes and for anonymous callers. */
    auth: Authentication | null;
  }
}

/** Minimum role per label (03 §0.1); `user`, `owner` and `service` accept every role. */
const MINIMUM_ROLE: Partial<Record<AuthLabel, Role>> = {
  'analyst+': 'analyst',
  'km_admin+': 'km_admin',
  admin: 'admin',
};

const ROLE_TEXT: Record<Role, string> = {
  viewer: 'viewer',
  analyst: 'analyst',
  km_admin: 'km_admin',
  admin: 'admin',
};

/** Labels whose routes resolve the caller before the handler; `anon` and `hmac` routes do not. */
export function requiresPrincipal(label: AuthLabel): boolean {
  return label !== 'anon' && label !== 'hmac';
}

const GUARD = Symbol('agnes route guard');

function guard(
  label: AuthLabel,
  authenticator: Authenticator,
  minimumServiceRole: Role | undefined,
  bearerOnly: boolean,
  wsTicket: boolean,
): onRequestHookHandler {
  const hook = async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = await authenticator.authenticate(request, { cookie: !bearerOnly, wsTicket });
    if (!auth) {
      reply.header('WWW-Authenticate', 'Bearer');
      throw new AgnesError('unauthorized', 'authentication required');
    }
    request.auth = auth;
    // A service account's personal access token (08 §9): a person, even an admin, is refused.
    if (label === 'service' && (!auth.principal.is_service || auth.method !== 'pat')) {
      throw new AgnesError('forbidden', "requires a service account's personal access token");
    }
    const minimum = label === 'service' ? minimumServiceRole : MINIMUM_ROLE[label];
    if (minimum && !hasRole(auth.principal.role, minimum)) {
      throw new AgnesError('forbidden_role', `requires role ${ROLE_TEXT[minimum]} or higher`);
    }
  };
  return Object.assign(hook, { [GUARD]: true });
}

/** Routes registered by plugins we use as they are: documentation only, public by design. */
function pluginLabel(url: string): AuthLabel | undefined {
  return url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`) ? 'anon' : undefined;
}

/**
 * Every route declares who may call it (`config.auth`); a route without a label makes the app
 * fail to start. The label goes into OpenAPI as `x-agnes-auth`, and one guard resolves the caller
 * and compares roles before anything else runs (04 §5).
 */
export function registerRouteAuth(app: AgnesApp, authenticator: Authenticator): void {
  app.decorateRequest('auth', null);
  const table: RouteEntry[] = [];
  app.decorate('agnesRoutes', table);
  app.addHook('onRoute', (route) => {
    const label = route.config?.auth ?? pluginLabel(route.url);
    if (!label) throw new Error(`route ${String(route.method)} ${route.url} declares no auth label`);
    route.config = { ...route.config, auth: label };
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      table.push({
        method,
        url: route.url,
        auth: label,
        ...(route.config?.serviceRole ? { serviceRole: route.config.serviceRole } : {}),
        hasBody: Boolean(route.schema?.body),
        hidden: route.schema?.hide === true,
        page: route.config?.page === true,
      });
    }
    if (route.schema) (route.schema as Record<string, unknown>)['x-agnes-auth'] = label;
    else route.schema = { 'x-agnes-auth': label } as unknown as typeof route.schema;
    if (!requiresPrincipal(label)) return;
    const existing = route.onRequest
      ? Array.isArray(route.onRequest)
        ? route.onRequest
        : [route.onRequest]
      : [];
    // HEAD routes copy their GET route's hooks, guard included.
    if (existing.some((hook) => GUARD in hook)) return;
    const { serviceRole, bearerOnly, wsTicket } = route.config ?? {};
    addRouteHook(
      route,
      'onRequest',
      guard(label, authenticator, serviceRole, bearerOnly === true, wsTicket === true),
      'first',
    );
  });
}

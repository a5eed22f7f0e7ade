import type { FastifyReply, FastifyRequest } from 'fastify';
import { auditResult, redactParams } from '../../core/audit/redact.js';
import { errorMessage } from '../../core/errors.js';
import type { Repositories } from '../../core/state/repositories/index.js';
import type { AgnesApp } from '../app.js';
import { addRouteHook, isMutating, MUTATING_METHODS } from './route-hooks.js';

export interface AuditNote {
  action?: string;
  resource?: string | null;
  params?: Record<string, unknown>;
  /** Set by handlers that act for a user without a session yet (login, bootstrap). */
  userId?: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** What a handler wants the audit row to say; the hook fills in the rest. */
    audit: AuditNote;
  }
}

const MUTATING = MUTATING_METHODS;

function clientOf(request: FastifyRequest): 'web' | 'cli' | 'service' | 'api' {
  const auth = request.auth;
  if (auth?.via === 'cookie') return 'web';
  if (auth?.method === 'pat' && auth.principal.is_service) return 'service';
  if (String(request.headers['user-agent'] ?? '').startsWith('da/')) return 'cli';
  return 'api';
}

/** `POST /api/admin/groups/:group_id/members` → `admin.groups.members.create`. */
export function defaultAction(method: string, url: string): string {
  const parts = url
    .split('/')
    .filter((p) => p && p !== 'api' && !p.startsWith(':'))
    .map((p) => p.replace(/[^a-z0-9_]+/gi, '_'));
  const verb = { POST: 'create', PUT: 'update', PATCH: 'update', DELETE: 'delete' }[method] ?? 'read';
  return [...parts, verb].join('.');
}

/**
 * One audit row per state-changing request, and per read a route marks with `config.audit`
 * (04 §8), written from the response hook so no handler can forget it.
 */
export function registerAudit(app: AgnesApp, repos: Repositories): void {
  const notes = new WeakMap<FastifyRequest, AuditNote>();
  app.decorateRequest('audit', {
    getter(this: FastifyRequest) {
      let note = notes.get(this);
      if (!note) {
        note = {};
        notes.set(this, note);
      }
      return note;
    },
    setter(this: FastifyRequest, value: AuditNote) {
      notes.set(this, value);
    },
  });
  app.addHook('onRoute', (route) => {
    if (route.config?.selfAudited) return;
    if (isMutating(route) || route.config?.audit) addRouteHook(route, 'onResponse', writeAudit);
  });
  async function writeAudit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const route = request.routeOptions;
    const readAction = route.config?.audit;
    if (!MUTATING.has(request.method) && !readAction) return;
    // Some reads count only when they delivered data (downloads: 200/206).
    if (route.config?.auditSuccessOnly && (reply.statusCode < 200 || reply.statusCode >= 300)) return;
    const note = request.audit ?? {};
    const params =
      note.params ??
      (MUTATING.has(request.method) ? (request.body as Record<string, unknown> | undefined) : undefined);
    try {
      await repos.audit.append({
        user_id: note.userId !== undefined ? note.userId : (request.auth?.principal.id ?? null),
        action: note.action ?? readAction ?? defaultAction(request.method, route.url ?? request.url),
        resource: note.resource ?? Object.values((request.params as Record<string, string>) ?? {})[0] ?? null,
        params: (redactParams(params ?? null) as Record<string, unknown> | null) ?? null,
        result: auditResult(reply.statusCode),
        duration_ms: Math.round(reply.elapsedTime),
        status_code: reply.statusCode,
        request_id: String(request.id),
        ip: request.ip,
        client: clientOf(request),
      });
    } catch (error) {
      request.log.error({ err: errorMessage(error) }, 'audit write failed');
    }
  }
}

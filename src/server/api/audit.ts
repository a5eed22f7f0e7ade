import { Type } from '@sinclair/typebox';
import type { AuditEntry, AuditFilter, Repositories } from '../../core/state/repositories/index.js';
import { pageFields } from '../../core/state/repositories/paginate.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors, Id, PagedQuery, PageFields, pageOf, Timestamp } from '../schemas.js';

const Nullable = Type.Union([Type.String(), Type.Null()]);

export const AuditEntryView = Type.Object({
  id: Type.String(),
  timestamp: Timestamp,
  user_id: Nullable,
  user_email: Nullable,
  action: Type.String(),
  resource: Nullable,
  params: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
  result: Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('error')]),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  duration_ms: Type.Union([Type.Integer(), Type.Null()]),
  request_id: Nullable,
  client: Nullable,
});

const EntriesResponse = Type.Object({ entries: Type.Array(AuditEntryView), ...PageFields });

/** `AuditEntry` (04 §8): the row plus the email of its user, if the user still exists. */
export async function entryViews(repos: Repositories, rows: readonly AuditEntry[]) {
  const users = await repos.users.getMany(rows.flatMap((r) => (r.user_id ? [r.user_id] : [])));
  const emails = new Map(users.map((u) => [u.id, u.email]));
  return rows.map((row) => ({
    id: row.id,
    timestamp: row.timestamp,
    user_id: row.user_id,
    user_email: row.user_id ? (emails.get(row.user_id) ?? null) : null,
    action: row.action,
    resource: row.resource,
    params: row.params,
    result: row.result,
    status_code: row.status_code,
    duration_ms: row.duration_ms,
    request_id: row.request_id,
    client: row.client,
  }));
}

/** `action` filter: an exact name, or a prefix ending in `*` (`group.*`). */
function actionFilter(action: string | undefined): Pick<AuditFilter, 'action' | 'action_prefix'> {
  if (action === undefined) return {};
  return action.endsWith('*') ? { action_prefix: action.slice(0, -1) } : { action };
}

/** The audit log (04 §8): admins read everything (itself an audited read), everyone their own. */
export async function auditRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { repos } = services.ctx;

  app.get(
    '/api/admin/audit',
    {
      config: { auth: 'admin', audit: 'audit.read' },
      schema: {
        tags: ['audit'],
        summary: 'Search the audit log, newest first',
        querystring: PagedQuery({
          user_id: Type.Optional(Id),
          action: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          resource: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
          since: Type.Optional(Timestamp),
          until: Type.Optional(Timestamp),
        }),
        response: { 200: EntriesResponse, ...errors(401, 403, 422) },
      },
    },
    async (request) => {
      const { user_id, action, resource, since, until } = request.query;
      request.audit.params = { user_id, action, resource, since, until };
      const page = await repos.audit.list(
        {
          user_id,
          ...actionFilter(action),
          resource,
          from: since === undefined ? undefined : new Date(since).toISOString(),
          to: until === undefined ? undefined : new Date(until).toISOString(),
        },
        pageOf(request.query),
      );
      return {
        entries: await entryViews(repos, page.items),
        ...pageFields(page),
      };
    },
  );

  app.get(
    '/api/audit/mine',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['audit'],
        summary: 'Your own audit entries, newest first',
        querystring: PagedQuery({}),
        response: { 200: EntriesResponse, ...errors(401, 422) },
      },
    },
    async (request) => {
      const page = await repos.audit.list({ user_id: request.auth!.principal.id }, pageOf(request.query));
      return {
        entries: await entryViews(repos, page.items),
        ...pageFields(page),
      };
    },
  );
}

import { Type } from '@sinclair/typebox';
import { AccessRequestSchema, PendingAccessRequestsSchema } from '../../contract/index.js';
import { loadAccessView } from '../../core/access/access.js';
import { AgnesError, isAgnesError } from '../../core/errors.js';
import type { AccessRequest, Repositories } from '../../core/state/repositories/index.js';
import type { AgnesApp } from '../app.js';
import { routeLimit } from '../plugins/rate-limits.js';
import { errors, Id, PagedQuery, PageFields, pageOf } from '../schemas.js';
import type { AppServices } from '../services.js';
import { activeAdminIds, notifyUsers } from '../system-notifications.js';

const RequestParams = Type.Object({ id: Id });
const ReviewBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);

const notFound = () => new AgnesError('not_found', 'access request not found');
const notPending = (status: string) =>
  new AgnesError('not_pending', `access request is ${status}, not pending`, { extra: { status } });

/** Turns the repository's lost-race `conflict` into 409 `not_pending` with the status it lost to. */
async function whilePending<T>(repos: Repositories, id: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!isAgnesError(error) || error.code !== 'conflict') throw error;
    const current = await repos.accessRequests.get(id);
    if (!current) throw notFound();
    throw notPending(current.status);
  }
}

/** The API's `AccessRequest`: table names from the registry, reviewer emails from the users. */
export async function requestViews(repos: Repositories, rows: readonly AccessRequest[]) {
  const [registry, reviewers] = await Promise.all([
    repos.registry.list(),
    repos.users.getMany(rows.flatMap((r) => (r.reviewed_by ? [r.reviewed_by] : []))),
  ]);
  const names = new Map(registry.map((t) => [t.id, t.name]));
  const emails = new Map(reviewers.map((u) => [u.id, u.email]));
  return rows.map((row) => ({
    id: row.id,
    user_id: row.user_id,
    user_email: row.user_email,
    table_id: row.table_id,
    table_name: names.get(row.table_id) ?? null,
    reason: row.reason,
    status: row.status,
    reviewed_by: row.reviewed_by,
    reviewed_by_email: row.reviewed_by ? (emails.get(row.reviewed_by) ?? null) : null,
    reviewed_at: row.reviewed_at,
    review_note: row.review_note,
    created_at: row.created_at,
  }));
}

/** Access requests (03 §11, 04 §7): request, review (approve grants in the same transaction), cancel. */
export async function accessRequestRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, repos } = services.ctx;
  const maxPending = config.limits.max_pending_access_requests;

  app.post(
    '/api/access-requests',
    {
      config: { auth: 'user', rateLimit: routeLimit(config, 'access_request') },
      schema: {
        tags: ['access-requests'],
        summary: 'Request read access to a registered, discoverable table',
        body: Type.Object(
          {
            table_id: Type.String({ minLength: 1, maxLength: 300 }),
            reason: Type.Optional(Type.String({ maxLength: 1000 })),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ id: Type.String(), status: Type.Literal('pending'), table_id: Type.String() }),
          ...errors(401, 403, 404, 409, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const principal = request.auth!.principal;
      const { table_id, reason } = request.body;
      request.audit = { action: 'access_request.create', resource: table_id, params: { table_id, reason } };
      const view = await loadAccessView(repos, principal);
      const table = view.table(table_id);
      // Unregistered and non-discoverable tables do not exist for the caller (04 §6.2).
      if (!table || !view.isVisible(table_id)) throw new AgnesError('not_found', 'table not found');
      if (view.canRead(table_id).allowed)
        throw new AgnesError('already_granted', 'you can already read this table');
      const created = await repos.transaction(async (r) => {
        let row: AccessRequest;
        try {
          row = await r.accessRequests.create({
            user_id: principal.id,
            user_email: principal.email,
            table_id,
            reason: reason ?? null,
          });
        } catch (error) {
          if (isAgnesError(error) && error.code === 'conflict')
            throw new AgnesError('already_pending', 'a request for this table is already pending');
          throw error;
        }
        // Counted after the insert, in the same transaction: concurrent requests cannot pass together.
        if ((await r.accessRequests.countPendingByUser(principal.id)) > maxPending) {
          throw new AgnesError('too_many_pending', `at most ${maxPending} pending requests per user`);
        }
        await notifyUsers(r, config, await activeAdminIds(r), {
          title: 'Access request',
          message: `${principal.email} asks for read access to ${table_id}${reason ? `: ${reason}` : ''}`,
          sourceId: row.id,
        });
        return row;
      });
      return reply.status(201).send({ id: created.id, status: 'pending' as const, table_id });
    },
  );

  app.get(
    '/api/access-requests/my',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['access-requests'],
        summary: "The caller's requests, newest first",
        querystring: PagedQuery({}),
        response: {
          200: Type.Object({ requests: Type.Array(AccessRequestSchema), ...PageFields }),
          ...errors(401, 422),
        },
      },
    },
    async (request) => {
      const page = await repos.accessRequests.list(
        { user_id: request.auth!.principal.id },
        pageOf(request.query),
      );
      return {
        requests: await requestViews(repos, page.items),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
      };
    },
  );

  app.get(
    '/api/access-requests/pending',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['access-requests'],
        summary: 'Pending requests of every user, newest first',
        querystring: PagedQuery({}),
        response: {
          200: PendingAccessRequestsSchema,
          ...errors(401, 403, 422),
        },
      },
    },
    async (request) => {
      const page = await repos.accessRequests.list({ status: 'pending' }, pageOf(request.query));
      return {
        requests: await requestViews(repos, page.items),
        count: page.total,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
      };
    },
  );

  app.post(
    '/api/access-requests/:id/approve',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['access-requests'],
        summary: 'Approve a pending request; the read grant is created in the same transaction',
        params: RequestParams,
        body: ReviewBody,
        response: {
          200: Type.Object({ status: Type.Literal('approved'), id: Type.String() }),
          ...errors(401, 403, 404, 409, 422),
        },
      },
    },
    async (request) => {
      const reviewer = request.auth!.principal.id;
      const { id } = request.params;
      request.audit.action = 'access_request.approve';
      await repos.transaction(async (r) => {
        const current = await r.accessRequests.get(id);
        if (!current) throw notFound();
        if (current.status !== 'pending') throw notPending(current.status);
        if (!(await r.registry.get(current.table_id)))
          throw new AgnesError('table_unregistered', 'the table is no longer registered');
        const approved = await whilePending(
          r,
          id,
          r.accessRequests.review(id, { status: 'approved', reviewer, note: request.body.note }),
        );
        await r.permissions.grantUser(approved.user_id, {
          dataset: approved.table_id,
          access: 'read',
          granted_by: reviewer,
        });
        await notifyUsers(r, config, [approved.user_id], {
          title: 'Access granted',
          message: `You can now read ${approved.table_id}.`,
          sourceId: approved.id,
        });
      });
      return { status: 'approved' as const, id };
    },
  );

  app.post(
    '/api/access-requests/:id/deny',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['access-requests'],
        summary: 'Deny a pending request',
        params: RequestParams,
        body: ReviewBody,
        response: {
          200: Type.Object({ status: Type.Literal('denied'), id: Type.String() }),
          ...errors(401, 403, 404, 409, 422),
        },
      },
    },
    async (request) => {
      const reviewer = request.auth!.principal.id;
      const { id } = request.params;
      request.audit.action = 'access_request.deny';
      await repos.transaction(async (r) => {
        const denied = await whilePending(
          r,
          id,
          r.accessRequests.review(id, { status: 'denied', reviewer, note: request.body.note }),
        );
        await notifyUsers(r, config, [denied.user_id], {
          title: 'Access request denied',
          message: `Your request to read ${denied.table_id} was denied${request.body.note ? `: ${request.body.note}` : '.'}`,
          sourceId: denied.id,
        });
      });
      return { status: 'denied' as const, id };
    },
  );

  app.delete(
    '/api/access-requests/:id',
    {
      config: { auth: 'owner' },
      schema: {
        tags: ['access-requests'],
        summary: 'Cancel a pending request (its requester, or an admin)',
        params: RequestParams,
        response: { 204: Type.Null(), ...errors(401, 404, 409) },
      },
    },
    async (request, reply) => {
      const principal = request.auth!.principal;
      const { id } = request.params;
      request.audit.action = 'access_request.cancel';
      const current = await repos.accessRequests.get(id);
      // Someone else's request is as unknown as a missing one (04 §6.2).
      if (!current || (current.user_id !== principal.id && principal.role !== 'admin')) throw notFound();
      await whilePending(repos, id, repos.accessRequests.cancel(id, current.user_id));
      return reply.status(204).send(null);
    },
  );
}

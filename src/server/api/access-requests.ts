import { Type } from '@sinclair/typebox';
import { AccessRequestListSchema, PendingAccessRequestsSchema } from '../../contract/index.js';
import {
  approveRequest,
  cancelRequest,
  denyRequest,
  listMyRequests,
  listPendingRequests,
  requestAccess,
} from '../../core/usecases/access-requests.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { routeLimit } from '../plugins/rate-limits.js';
import { errors, Id, PagedQuery, pageOf } from '../schemas.js';

const RequestParams = Type.Object({ id: Id });
const ReviewBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 1000 })) },
  { additionalProperties: false },
);

/** Access requests (03 §11, 04 §7): request, review (approve grants in the same transaction), cancel. */
export async function accessRequestRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;
  const { config } = ctx;

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
      const { table_id, reason } = request.body;
      request.audit = { action: 'access_request.create', resource: table_id, params: { table_id, reason } };
      return reply.status(201).send(await requestAccess(ctx, request.auth!.principal, request.body));
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
          200: AccessRequestListSchema,
          ...errors(401, 422),
        },
      },
    },
    async (request) => listMyRequests(ctx, request.auth!.principal, pageOf(request.query)),
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
    async (request) => listPendingRequests(ctx, pageOf(request.query)),
  );

  // Approve and deny differ only in their verb, answer and use case.
  const reviews = [
    {
      verb: 'approve',
      status: 'approved',
      summary: 'Approve a pending request; the read grant is created in the same transaction',
      review: approveRequest,
    },
    { verb: 'deny', status: 'denied', summary: 'Deny a pending request', review: denyRequest },
  ] as const;
  for (const { verb, status, summary, review } of reviews) {
    app.post(
      `/api/access-requests/:id/${verb}`,
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['access-requests'],
          summary,
          params: RequestParams,
          body: ReviewBody,
          response: {
            200: Type.Object({ status: Type.Literal(status), id: Type.String() }),
            ...errors(401, 403, 404, 409, 422),
          },
        },
      },
      async (request) => {
        request.audit.action = `access_request.${verb}`;
        return review(ctx, request.auth!.principal, { id: request.params.id, note: request.body.note });
      },
    );
  }

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
      request.audit.action = 'access_request.cancel';
      await cancelRequest(ctx, request.auth!.principal, request.params.id);
      return reply.status(204).send(null);
    },
  );
}

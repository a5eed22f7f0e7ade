import { Type } from '@sinclair/typebox';
import { NotificationListSchema, ReadAllResponseSchema } from '../../contract/index.js';
import { listInbox, markAllNotificationsRead, markNotificationRead } from '../../core/notifications/inbox.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors, Id, PagedQuery, pageOf } from '../schemas.js';

/** The caller's inbox (03 §17): list, mark one read, mark all read. */
export async function notificationRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { repos } = services.ctx;

  app.get(
    '/api/notifications',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['notifications'],
        summary: 'Your notifications, newest first, with delivery status per channel',
        querystring: PagedQuery({ unread: Type.Optional(Type.Boolean({ description: 'Only unread ones' })) }),
        response: { 200: NotificationListSchema, ...errors(401, 422) },
      },
    },
    async (request) =>
      listInbox(
        repos,
        request.auth!.principal.id,
        request.query.unread === undefined ? {} : { unread: request.query.unread },
        pageOf(request.query),
      ),
  );

  app.post(
    '/api/notifications/:id/read',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['notifications'],
        summary: 'Mark one of your notifications read',
        params: Type.Object({ id: Id }),
        response: { 204: Type.Null(), ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      request.audit = { action: 'notification.read', resource: request.params.id };
      await markNotificationRead(repos, request.auth!.principal.id, request.params.id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/notifications/read-all',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['notifications'],
        summary: 'Mark all your notifications read',
        response: { 200: ReadAllResponseSchema, ...errors(401) },
      },
    },
    async (request) => {
      request.audit = { action: 'notification.read_all' };
      return markAllNotificationsRead(repos, request.auth!.principal.id);
    },
  );
}

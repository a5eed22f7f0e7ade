import { Type } from '@sinclair/typebox';
import {
  AlertListSchema,
  AlertRunResultSchema,
  AlertTestRequestSchema,
  AlertTestResultSchema,
  CreateAlertSchema,
  PatchAlertSchema,
  SqlAlertSchema,
} from '../../contract/index.js';
import {
  createAlert,
  deleteAlert,
  getAlert,
  listAlerts,
  runAlert,
  testAlert,
  updateAlert,
} from '../../core/usecases/alerts.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import type { Authentication } from '../auth/principal.js';
import { routeLimit } from '../plugins/rate-limits.js';
import { errors, Id } from '../schemas.js';

const AlertParams = Type.Object({ alert_id: Id }, { additionalProperties: false });

/** The scheduler (08 §9): a service account's personal access token with the admin role. */
function isScheduler(auth: Authentication): boolean {
  return auth.principal.is_service && auth.method === 'pat' && auth.principal.role === 'admin';
}

/** Declarative SQL alerts (03 §16): the owner's CRUD, `test`, and `run` for the owner or the scheduler. */
export async function alertRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;
  const rateLimit = routeLimit(ctx.config, 'query');

  app.get(
    '/api/alerts',
    {
      config: { auth: 'analyst+' },
      schema: {
        tags: ['alerts'],
        summary: "The caller's alerts; every alert with all=true (admins)",
        querystring: Type.Object(
          { all: Type.Optional(Type.Boolean({ default: false })) },
          { additionalProperties: false },
        ),
        response: { 200: AlertListSchema, ...errors(401, 403, 422) },
      },
    },
    async (request) => listAlerts(ctx, request.auth!.principal, { all: request.query.all ?? false }),
  );

  app.post(
    '/api/alerts',
    {
      config: { auth: 'analyst+' },
      schema: {
        tags: ['alerts'],
        summary: 'Create an alert; its SQL is checked by the query guard with your rights',
        body: CreateAlertSchema,
        response: { 201: SqlAlertSchema, ...errors(400, 401, 403, 409, 413, 422) },
      },
    },
    async (request, reply) => {
      const { name, schedule } = request.body;
      request.audit = { action: 'alert.create', params: { name, schedule } };
      const alert = await createAlert(ctx, request.auth!.principal, {
        ...request.body,
        requestId: String(request.id),
      });
      request.audit.resource = alert.id;
      return reply.status(201).send(alert);
    },
  );

  app.get(
    '/api/alerts/:alert_id',
    {
      config: { auth: 'owner' },
      schema: {
        tags: ['alerts'],
        summary: 'One alert (its owner, or an admin)',
        params: AlertParams,
        response: { 200: SqlAlertSchema, ...errors(401, 404) },
      },
    },
    async (request) => getAlert(ctx, request.auth!.principal, request.params.alert_id),
  );

  app.patch(
    '/api/alerts/:alert_id',
    {
      config: { auth: 'owner' },
      schema: {
        tags: ['alerts'],
        summary: "Change an alert; new SQL is checked by the query guard with the owner's rights",
        params: AlertParams,
        body: PatchAlertSchema,
        response: { 200: SqlAlertSchema, ...errors(400, 401, 403, 404, 413, 422) },
      },
    },
    async (request) => {
      const { alert_id } = request.params;
      request.audit = {
        action: 'alert.update',
        resource: alert_id,
        params: { fields: Object.keys(request.body) },
      };
      return updateAlert(ctx, request.auth!.principal, alert_id, {
        ...request.body,
        requestId: String(request.id),
      });
    },
  );

  app.delete(
    '/api/alerts/:alert_id',
    {
      config: { auth: 'owner' },
      schema: {
        tags: ['alerts'],
        summary: 'Delete an alert',
        params: AlertParams,
        response: { 204: Type.Null(), ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      const { alert_id } = request.params;
      request.audit = { action: 'alert.delete', resource: alert_id };
      await deleteAlert(ctx, request.auth!.principal, alert_id);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/alerts/:alert_id/test',
    {
      config: { auth: 'owner', rateLimit },
      schema: {
        tags: ['alerts'],
        summary: 'Evaluate now: the result preview and the rendered message; notifies only with deliver',
        params: AlertParams,
        body: AlertTestRequestSchema,
        response: { 200: AlertTestResultSchema, ...errors(400, 401, 403, 404, 408, 422, 429, 503) },
      },
    },
    async (request) => {
      const { alert_id } = request.params;
      const deliver = request.body.deliver ?? false;
      request.audit = { action: 'alert.test', resource: alert_id, params: { deliver } };
      return testAlert(ctx, request.auth!.principal, alert_id, { deliver, requestId: String(request.id) });
    },
  );

  app.post(
    '/api/alerts/:alert_id/run',
    {
      config: { auth: 'owner' },
      schema: {
        tags: ['alerts'],
        summary:
          "Evaluate and notify (the scheduler's trigger): the owner, or a service account with the admin role",
        params: AlertParams,
        response: { 200: AlertRunResultSchema, ...errors(401, 403, 404, 409) },
      },
    },
    async (request) => {
      const { alert_id } = request.params;
      const auth = request.auth!;
      request.audit = { action: 'alert.run', resource: alert_id };
      const runner = isScheduler(auth)
        ? { scheduler: true as const }
        : { scheduler: false as const, principal: auth.principal };
      const result = await runAlert(ctx, runner, alert_id, String(request.id));
      request.audit.params = { fired: result.fired, status: result.status };
      return result;
    },
  );
}

import { Type } from '@sinclair/typebox';
import {
  AccessCheckSchema,
  GrantRevokedSchema,
  UserGrantListSchema,
  UserGrantSchema,
  UserPermissionsSchema,
} from '../../contract/index.js';
import { loadAccessView } from '../../core/access/access.js';
import { principalOfUser } from '../../core/access/principal.js';
import { AgnesError } from '../../core/errors.js';
import type { Repositories } from '../../core/state/repositories/index.js';
import { pageFields } from '../../core/state/repositories/paginate.js';
import { policyCheck } from '../../core/usecases/policies.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { AccessSchema, errors, Id, PagedQuery, pageOf } from '../schemas.js';
import { checkGrantDataset, GrantDataset } from './grant-dataset.js';

const RevokeFields = { user_id: Type.Optional(Id), dataset: Type.Optional(GrantDataset) };

/** Another user as the access function would see them on their next request. */
async function principalOfUserId(repos: Repositories, userId: string) {
  const user = await repos.users.getById(userId);
  if (!user) throw new AgnesError('not_found', 'user not found');
  return principalOfUser(repos, user);
}

/** The access function for another user, as that user would get it on their next request. */
async function accessViewOfUser(repos: Repositories, userId: string) {
  return loadAccessView(repos, await principalOfUserId(repos, userId));
}

/** Direct user grants (03 §10) and the admin's view of what a user can read and why. */
export async function permissionRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { repos } = services.ctx;

  app.post(
    '/api/admin/permissions',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['permissions'],
        summary: 'Grant a user read (or none) on a table id or <bucket>.*',
        body: Type.Object(
          { user_id: Id, dataset: GrantDataset, access: Type.Optional(AccessSchema) },
          { additionalProperties: false },
        ),
        response: { 201: UserGrantSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const { user_id, dataset } = request.body;
      const access = request.body.access ?? 'read';
      request.audit = { action: 'permission.grant', resource: user_id, params: { user_id, dataset, access } };
      await checkGrantDataset(repos, dataset);
      if (!(await repos.users.getById(user_id))) throw new AgnesError('not_found', 'user not found');
      const grant = await repos.permissions.grantUser(user_id, {
        dataset,
        access,
        granted_by: request.auth!.principal.id,
      });
      return reply.status(201).send({
        user_id: grant.user_id,
        dataset: grant.dataset,
        access: grant.access,
        granted_by: grant.granted_by,
        granted_at: grant.granted_at,
      });
    },
  );

  app.delete(
    '/api/admin/permissions',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['permissions'],
        summary: "Revoke a user's grant; user_id and dataset in a JSON body or as query parameters",
        body: Type.Object(RevokeFields, { additionalProperties: false }),
        querystring: Type.Object(RevokeFields, { additionalProperties: false }),
        response: { 200: GrantRevokedSchema, ...errors(401, 403, 422) },
      },
    },
    async (request) => {
      const user_id = request.body?.user_id ?? request.query.user_id;
      const dataset = request.body?.dataset ?? request.query.dataset;
      request.audit = {
        action: 'permission.revoke',
        resource: user_id ?? null,
        params: { user_id, dataset },
      };
      if (user_id === undefined || dataset === undefined) {
        throw new AgnesError('validation_failed', 'user_id and dataset are required', {
          extra: {
            errors: [
              ...(user_id === undefined ? [{ path: '/body/user_id', message: 'is required' }] : []),
              ...(dataset === undefined ? [{ path: '/body/dataset', message: 'is required' }] : []),
            ],
          },
        });
      }
      return { revoked: await repos.permissions.revokeUser(user_id, dataset) };
    },
  );

  app.get(
    '/api/admin/permissions',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['permissions'],
        summary: 'Direct user grants, optionally for one dataset',
        querystring: PagedQuery({ dataset: Type.Optional(GrantDataset) }),
        response: {
          200: UserGrantListSchema,
          ...errors(401, 403, 422),
        },
      },
    },
    async (request) => {
      const page = await repos.permissions.listUserGrants(
        { dataset: request.query.dataset },
        pageOf(request.query),
      );
      return {
        permissions: page.items.map((p) => ({
          user_id: p.user_id,
          email: p.email,
          dataset: p.dataset,
          access: p.access,
          granted_by: p.granted_by,
          granted_at: p.granted_at,
        })),
        ...pageFields(page),
      };
    },
  );

  app.get(
    '/api/admin/permissions/:user_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['permissions'],
        summary: "A user's own and group grants, and the tables the access function lets them read",
        params: Type.Object({ user_id: Id }),
        response: { 200: UserPermissionsSchema, ...errors(401, 403, 404) },
      },
    },
    async (request) => {
      const { user_id } = request.params;
      const view = await accessViewOfUser(repos, user_id);
      const [own, effective] = await Promise.all([
        repos.permissions.listForUser(user_id),
        repos.permissions.grantsForUser(user_id),
      ]);
      return {
        user_id,
        permissions: own.map((p) => ({
          dataset: p.dataset,
          access: p.access,
          granted_by: p.granted_by,
          granted_at: p.granted_at,
        })),
        group_permissions: effective.flatMap((g) =>
          g.via.kind === 'group'
            ? [
                {
                  group_id: g.via.group_id,
                  group_name: g.via.group_name,
                  dataset: g.dataset,
                  access: g.access,
                },
              ]
            : [],
        ),
        readable_tables: view.readableTables(),
      };
    },
  );

  app.get(
    '/api/admin/access-check',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['permissions'],
        summary:
          'Whether a user can read a table, and why (the access function), and what row policies show them',
        querystring: Type.Object(
          { user_id: Id, table_id: Type.String({ minLength: 1, maxLength: 300 }) },
          { additionalProperties: false },
        ),
        response: {
          200: AccessCheckSchema,
          ...errors(401, 403, 404, 422),
        },
      },
    },
    async (request) => {
      const { user_id, table_id } = request.query;
      const principal = await principalOfUserId(repos, user_id);
      const [view, policy] = await Promise.all([
        loadAccessView(repos, principal),
        policyCheck(services.ctx, principal, table_id),
      ]);
      return { ...view.canRead(table_id), policy };
    },
  );
}

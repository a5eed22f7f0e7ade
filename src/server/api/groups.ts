import { Type } from '@sinclair/typebox';
import { GroupListSchema, GroupSummarySchema } from '../../contract/index.js';
import { AgnesError, isAgnesError } from '../../core/errors.js';
import type { Group } from '../../core/state/repositories/index.js';
import { pageFields } from '../../core/state/repositories/paginate.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { AccessSchema, errors, Id, NullableTimestamp, PagedQuery, pageOf } from '../schemas.js';
import { checkGrantDataset, GrantDataset } from './grant-dataset.js';

const GroupParams = Type.Object({ group_id: Id });
const GroupName = Type.String({ minLength: 1, maxLength: 100 });
const Description = Type.String({ maxLength: 500 });

const GroupDetail = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  members: Type.Array(Type.Object({ id: Type.String(), email: Type.String(), name: Type.String() })),
  permissions: Type.Array(
    Type.Object({
      dataset: Type.String(),
      access: AccessSchema,
      granted_by: Type.Union([Type.String(), Type.Null()]),
      granted_at: NullableTimestamp,
    }),
  ),
});

const Membership = Type.Object({ group_id: Type.String(), user_id: Type.String() });
const GroupGrant = Type.Object({
  group_id: Type.String(),
  dataset: Type.String(),
  access: AccessSchema,
  granted_by: Type.Union([Type.String(), Type.Null()]),
  granted_at: NullableTimestamp,
});

const notFound = () => new AgnesError('not_found', 'group not found');

/** Unique names, case-insensitively: the repository's `conflict` is the API's `name_exists`. */
async function uniqueName<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (isAgnesError(error) && error.code === 'conflict')
      throw new AgnesError('name_exists', 'a group with this name already exists');
    throw error;
  }
}

/** Groups, their members and their grants (03 §9). */
export async function groupRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { repos } = services.ctx;

  const summary = async (group: Group) => {
    const [members, permissions] = await Promise.all([
      repos.groups.listMembers(group.id),
      repos.permissions.listForGroup(group.id),
    ]);
    return {
      id: group.id,
      name: group.name,
      description: group.description,
      member_count: members.length,
      permission_count: permissions.length,
    };
  };

  const existing = async (groupId: string): Promise<Group> => {
    const group = await repos.groups.getById(groupId);
    if (!group) throw notFound();
    return group;
  };

  app.get(
    '/api/admin/groups',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['groups'],
        summary: 'List groups by name',
        querystring: PagedQuery({}),
        response: {
          200: GroupListSchema,
          ...errors(401, 403, 422),
        },
      },
    },
    async (request) => {
      const page = await repos.groups.list(pageOf(request.query));
      return {
        groups: page.items.map((g) => ({
          id: g.id,
          name: g.name,
          description: g.description,
          member_count: g.member_count,
          permission_count: g.permission_count,
        })),
        ...pageFields(page),
      };
    },
  );

  app.post(
    '/api/admin/groups',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['groups'],
        summary: 'Create a group (names are unique case-insensitively)',
        body: Type.Object(
          { name: GroupName, description: Type.Optional(Description) },
          { additionalProperties: false },
        ),
        response: { 201: GroupSummarySchema, ...errors(401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      request.audit.action = 'group.create';
      const group = await uniqueName(
        repos.groups.create({
          name: request.body.name,
          description: request.body.description ?? null,
          created_by: request.auth!.principal.id,
        }),
      );
      request.audit.resource = group.id;
      return reply.status(201).send(await summary(group));
    },
  );

  app.get(
    '/api/admin/groups/:group_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['groups'],
        summary: 'A group with its members and grants',
        params: GroupParams,
        response: { 200: GroupDetail, ...errors(401, 403, 404) },
      },
    },
    async (request) => {
      const group = await existing(request.params.group_id);
      const [members, permissions] = await Promise.all([
        repos.groups.listMembers(group.id),
        repos.permissions.listForGroup(group.id),
      ]);
      return {
        id: group.id,
        name: group.name,
        description: group.description,
        members: members.map((m) => ({ id: m.id, email: m.email, name: m.name })),
        permissions: permissions.map((p) => ({
          dataset: p.dataset,
          access: p.access,
          granted_by: p.granted_by,
          granted_at: p.granted_at,
        })),
      };
    },
  );

  app.patch(
    '/api/admin/groups/:group_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['groups'],
        summary: 'Rename or re-describe a group',
        params: GroupParams,
        body: Type.Object(
          { name: Type.Optional(GroupName), description: Type.Optional(Description) },
          { additionalProperties: false },
        ),
        response: { 200: GroupSummarySchema, ...errors(401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      request.audit.action = 'group.update';
      const { group_id } = request.params;
      const changed = Object.keys(request.body).length > 0;
      const group = changed
        ? await uniqueName(repos.groups.update(group_id, request.body))
        : await repos.groups.getById(group_id);
      if (!group) throw notFound();
      return summary(group);
    },
  );

  app.delete(
    '/api/admin/groups/:group_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['groups'],
        summary: 'Delete a group with its memberships and grants',
        params: GroupParams,
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      request.audit.action = 'group.delete';
      if (!(await repos.groups.delete(request.params.group_id))) throw notFound();
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/admin/groups/:group_id/members',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['groups'],
        summary: 'Add a member (201, or 200 when already a member)',
        params: GroupParams,
        body: Type.Object({ user_id: Id }, { additionalProperties: false }),
        response: { 200: Membership, 201: Membership, ...errors(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const { group_id } = request.params;
      const { user_id } = request.body;
      request.audit = { action: 'group.member_add', resource: group_id, params: { user_id } };
      await existing(group_id);
      if (!(await repos.users.getById(user_id))) throw new AgnesError('not_found', 'user not found');
      const added = await repos.groups.addMember(group_id, user_id, request.auth!.principal.id);
      return reply.status(added ? 201 : 200).send({ group_id, user_id });
    },
  );

  app.delete(
    '/api/admin/groups/:group_id/members/:user_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['groups'],
        summary: 'Remove a member',
        params: Type.Object({ group_id: Id, user_id: Id }),
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
    },
    async (request, reply) => {
      const { group_id, user_id } = request.params;
      request.audit = { action: 'group.member_remove', resource: group_id, params: { user_id } };
      if (!(await repos.groups.removeMember(group_id, user_id)))
        throw new AgnesError('not_found', 'group or membership not found');
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/admin/groups/:group_id/permissions',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['groups'],
        summary: 'Grant the group read (or none) on a table id or <bucket>.*',
        params: GroupParams,
        body: Type.Object(
          { dataset: GrantDataset, access: Type.Optional(AccessSchema) },
          { additionalProperties: false },
        ),
        response: { 201: GroupGrant, ...errors(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const { group_id } = request.params;
      const { dataset } = request.body;
      const access = request.body.access ?? 'read';
      request.audit = { action: 'group.permission_grant', resource: group_id, params: { dataset, access } };
      await existing(group_id);
      await checkGrantDataset(repos, dataset);
      const grant = await repos.permissions.grantGroup(group_id, {
        dataset,
        access,
        granted_by: request.auth!.principal.id,
      });
      return reply.status(201).send({
        group_id: grant.group_id,
        dataset: grant.dataset,
        access: grant.access,
        granted_by: grant.granted_by,
        granted_at: grant.granted_at,
      });
    },
  );

  app.delete(
    '/api/admin/groups/:group_id/permissions',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['groups'],
        summary: "Remove the group's grant on one dataset",
        params: GroupParams,
        querystring: Type.Object({ dataset: GrantDataset }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errors(401, 403, 404, 422) },
      },
    },
    async (request, reply) => {
      const { group_id } = request.params;
      const { dataset } = request.query;
      request.audit = { action: 'group.permission_revoke', resource: group_id, params: { dataset } };
      if (!(await repos.permissions.revokeGroup(group_id, dataset)))
        throw new AgnesError('not_found', 'group or grant not found');
      return reply.status(204).send(null);
    },
  );
}

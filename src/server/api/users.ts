import { Type } from '@sinclair/typebox';
import { CreatedUserSchema, InviteResponseSchema, UserListSchema, UserSchema } from '../../contract/index.js';
import { AgnesError, isAgnesError } from '../../core/errors.js';
import type { Repositories, User } from '../../core/state/repositories/index.js';
import { pageFields } from '../../core/state/repositories/paginate.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { issueInvite } from '../auth/providers/password-links.js';
import { changeAccount, deleteAccount } from '../auth/user-changes.js';
import { Email, errors, Id, PagedQuery, pageOf, RoleSchema } from '../schemas.js';
import { userView } from './user-view.js';

const Name = Type.String({ minLength: 1, maxLength: 200 });
const UserParams = Type.Object({ user_id: Id });

const CreateBody = Type.Object(
  {
    email: Email,
    name: Type.Optional(Name),
    role: Type.Optional(RoleSchema),
    send_invite: Type.Optional(Type.Boolean()),
    is_service: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const notFound = () => new AgnesError('not_found', 'user not found');

/** The API `User` of one row, with its groups. */
async function viewOfUser(repos: Repositories, user: User) {
  return userView(user, await repos.groups.listGroupsOfUser(user.id));
}

/** User management (03 §8 users): admins list, create, change, delete and invite; everyone renames themselves. */
export async function userRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, repos } = services.ctx;

  app.get(
    '/api/users',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'List users, sorted by email',
        querystring: PagedQuery({
          search: Type.Optional(Type.String({ maxLength: 200 })),
          role: Type.Optional(RoleSchema),
          active: Type.Optional(Type.Boolean()),
        }),
        response: {
          200: UserListSchema,
          ...errors(401, 403, 422),
        },
      },
    },
    async (request) => {
      const { search, role, active } = request.query;
      const page = await repos.users.list({ search, role, active }, pageOf(request.query));
      const groups = await repos.groups.listGroupsOfUsers(page.items.map((u) => u.id));
      return {
        users: page.items.map((user) => userView(user, groups.get(user.id) ?? [])),
        ...pageFields(page),
      };
    },
  );

  app.post(
    '/api/users',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'Create a user (and invite them by email unless send_invite is false)',
        body: CreateBody,
        response: { 201: CreatedUserSchema, ...errors(401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const isService = body.is_service ?? false;
      request.audit = {
        action: 'user.create',
        params: { email: body.email, role: body.role ?? 'analyst', is_service: isService },
      };
      let user: User;
      try {
        user = await repos.users.create({
          email: body.email,
          name: body.name ?? '',
          role: body.role ?? 'analyst',
          is_service: isService,
        });
      } catch (error) {
        if (isAgnesError(error) && error.code === 'conflict')
          throw new AgnesError('email_exists', 'a user with this email already exists');
        throw error;
      }
      request.audit.resource = user.id;
      // Service accounts never get a password (04 §1.9), hence no invite.
      const invite =
        (body.send_invite ?? true) && !isService
          ? await issueInvite(repos, config, services.mailer, user, request.log)
          : null;
      if (invite) reply.header('Cache-Control', 'no-store');
      const created = (await repos.users.getById(user.id)) ?? user;
      return reply.status(201).send({
        ...(await viewOfUser(repos, created)),
        invite_sent: invite?.invite_sent ?? false,
        ...(invite?.setup_url ? { setup_url: invite.setup_url } : {}),
      });
    },
  );

  app.patch(
    '/api/users/me',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['users'],
        summary: 'Change your own display name',
        body: Type.Object({ name: Name }, { additionalProperties: false }),
        response: { 200: UserSchema, ...errors(401, 403, 422) },
      },
    },
    async (request) => {
      const id = request.auth!.principal.id;
      request.audit = { action: 'user.update', resource: id };
      const user = await repos.users.update(id, { name: request.body.name });
      if (!user) throw new AgnesError('unauthorized', 'authentication required');
      return viewOfUser(repos, user);
    },
  );

  app.get(
    '/api/users/:user_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'One user',
        params: UserParams,
        response: { 200: UserSchema, ...errors(401, 403, 404) },
      },
    },
    async (request) => {
      const user = await repos.users.getById(request.params.user_id);
      if (!user) throw notFound();
      return viewOfUser(repos, user);
    },
  );

  app.patch(
    '/api/users/:user_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'Change name, role or activity; deactivation ends every session of the user',
        params: UserParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            role: Type.Optional(RoleSchema),
            active: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: UserSchema, ...errors(401, 403, 404, 409, 422) },
      },
    },
    async (request) => {
      request.audit.action = 'user.update';
      const user = await changeAccount(repos, request.params.user_id, request.body);
      if (!user) throw notFound();
      return viewOfUser(repos, user);
    },
  );

  app.delete(
    '/api/users/:user_id',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'Delete a user with their tokens, memberships, grants and settings',
        params: UserParams,
        response: { 204: Type.Null(), ...errors(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      request.audit.action = 'user.delete';
      if (!(await deleteAccount(repos, request.params.user_id))) throw notFound();
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/users/:user_id/invite',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['users'],
        summary: 'Issue a new invite (password setup link); the previous one stops working',
        params: UserParams,
        response: { 200: InviteResponseSchema, ...errors(401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      request.audit.action = 'user.invite';
      const user = await repos.users.getById(request.params.user_id);
      if (!user) throw notFound();
      const invite = await issueInvite(repos, config, services.mailer, user, request.log);
      reply.header('Cache-Control', 'no-store');
      return {
        invite_sent: invite.invite_sent,
        ...(invite.setup_url ? { setup_url: invite.setup_url } : {}),
        expires_at: invite.expires_at,
      };
    },
  );
}

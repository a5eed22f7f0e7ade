import { Type } from '@sinclair/typebox';
import { CreatedTokenSchema, type PersonalToken, PersonalTokenListSchema } from '../../contract/index.js';
import { AgnesError } from '../../core/errors.js';
import type { PersonalAccessToken } from '../../core/state/repositories/index.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { issuePersonalToken } from '../auth/personal-tokens.js';
import { errors, Id } from '../schemas.js';

function tokenView(row: PersonalAccessToken): PersonalToken {
  return {
    id: row.id,
    user_id: row.user_id,
    name: row.name,
    prefix: row.prefix,
    created_at: row.created_at,
    expires_at: row.expires_at,
    last_used_at: row.last_used_at,
    revoked_at: row.revoked_at,
  };
}

const notFound = () => new AgnesError('not_found', 'token not found');

/** Personal access tokens (03 §2): list, create (shown once), revoke. */
export async function tokenRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, repos } = services.ctx;

  app.get(
    '/api/tokens',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['tokens'],
        summary: "List the caller's tokens (admins: any user's with user_id)",
        querystring: Type.Object({ user_id: Type.Optional(Id) }, { additionalProperties: false }),
        response: { 200: PersonalTokenListSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      const userId = request.query.user_id ?? principal.id;
      if (userId !== principal.id) {
        if (principal.role !== 'admin')
          throw new AgnesError('forbidden', "only admins may list another user's tokens");
        if (!(await repos.users.getById(userId))) throw new AgnesError('not_found', 'user not found');
      }
      return { tokens: (await repos.tokens.listByUser(userId)).map(tokenView) };
    },
  );

  app.post(
    '/api/tokens',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['tokens'],
        summary: 'Create a personal access token; the token is shown only in this response',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 100 }),
            expires_in_days: Type.Optional(
              Type.Integer({ minimum: 1, maximum: config.auth.pat.max_expiry_days }),
            ),
            user_id: Type.Optional(Id),
          },
          { additionalProperties: false },
        ),
        response: { 201: CreatedTokenSchema, ...errors(401, 403, 404, 409, 422) },
      },
    },
    async (request, reply) => {
      const principal = request.auth!.principal;
      const { name, expires_in_days } = request.body;
      const userId = request.body.user_id ?? principal.id;
      request.audit = {
        action: 'pat.create',
        resource: userId,
        params: { name, expires_in_days, user_id: userId },
      };
      // Service accounts hold only tokens an admin or the operator created (04 §1.9), so a
      // leaked service token cannot mint more.
      if (userId === principal.id && principal.is_service)
        throw new AgnesError('forbidden', 'service accounts get their tokens from an admin or the operator');
      if (userId !== principal.id) {
        // Admins create tokens for service accounts (04 §1.9), never for people.
        if (principal.role !== 'admin')
          throw new AgnesError('forbidden', 'only admins may create tokens for another account');
        const target = await repos.users.getById(userId);
        if (!target) throw new AgnesError('not_found', 'user not found');
        if (!target.is_service)
          throw new AgnesError('forbidden', 'admins may create tokens for service accounts only');
      }
      const { row, token } = await issuePersonalToken(repos, config, {
        userId,
        name,
        expiresInDays: expires_in_days,
      });
      request.audit.resource = row.id;
      reply.header('Cache-Control', 'no-store');
      return reply.status(201).send({
        id: row.id,
        name: row.name,
        token,
        prefix: row.prefix,
        expires_at: row.expires_at,
      });
    },
  );

  app.delete(
    '/api/tokens/:token_id',
    {
      config: { auth: 'owner' },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke a token (its owner, or an admin)',
        params: Type.Object({ token_id: Id }),
        response: { 204: Type.Null(), ...errors(401, 404) },
      },
    },
    async (request, reply) => {
      const principal = request.auth!.principal;
      request.audit.action = 'pat.revoke';
      const row = await repos.tokens.getById(request.params.token_id);
      // Someone else's token is as unknown as a missing one (04 §6.2 object-level checks and the 403/404 policy).
      if (!row || (row.user_id !== principal.id && principal.role !== 'admin')) throw notFound();
      await repos.tokens.revoke(row.id, row.user_id);
      return reply.status(204).send(null);
    },
  );
}

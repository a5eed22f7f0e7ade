import { type Static, Type } from '@sinclair/typebox';
import { MeResponseSchema } from '../../../contract/index.js';
import type { AgnesApp } from '../../app.js';
import type { AppServices } from '../../app-services.js';
import { sessionsCutoff } from '../../auth/jwt.js';
import { clearSessionCookie, isFormPost } from '../../auth/sessions.js';
import { errors } from '../../schemas.js';
import { userView } from '../user-view.js';
import { Csrf } from './shared.js';

const LogoutBody = Type.Object(
  {
    all: Type.Optional(
      Type.Union([Type.Boolean(), Type.Literal('true'), Type.Literal('false'), Type.Literal('on')]),
    ),
    _csrf: Csrf,
  },
  { additionalProperties: false },
);

/** The current session whatever the sign-in method: who it belongs to, and ending it. */
export async function sessionRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, repos } = services.ctx;

  app.get(
    '/auth/me',
    {
      config: { auth: 'user', wsTicket: true },
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user and how they authenticated',
        response: { 200: MeResponseSchema, ...errors(401) },
      },
    },
    async (request) => {
      const auth = request.auth!;
      return {
        ...userView(auth.user, auth.principal.groups),
        auth: {
          method: auth.method,
          via: auth.via,
          issued_at: auth.issuedAt,
          expires_at: auth.expiresAt,
          token_id: auth.tokenId,
        },
        attributes: auth.attributes,
      };
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['auth'],
        summary: 'End this session (or all of them with all: true)',
        body: LogoutBody,
        response: { 200: Type.Object({ status: Type.Literal('logged_out') }), ...errors(401, 403, 422) },
      },
    },
    async (request, reply) => {
      const auth = request.auth!;
      const body: Static<typeof LogoutBody> = request.body;
      request.audit.action = 'auth.logout';
      if (auth.method === 'pat') await repos.tokens.revoke(auth.tokenId, auth.principal.id);
      else
        await repos.tokens.revokeJti(
          auth.tokenId,
          auth.principal.id,
          auth.expiresAt ?? new Date().toISOString(),
        );
      if (body.all === true || body.all === 'true' || body.all === 'on') {
        await repos.users.update(auth.principal.id, { sessions_valid_after: sessionsCutoff().toISOString() });
      }
      clearSessionCookie(request, reply, config);
      if (isFormPost(request)) return reply.redirect('/login', 303);
      return { status: 'logged_out' as const };
    },
  );
}

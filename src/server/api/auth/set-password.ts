import { Type } from '@sinclair/typebox';
import { AgnesError, isAgnesError } from '../../../core/errors.js';
import type { AgnesApp } from '../../app.js';
import { type AppServices, pageContext } from '../../app-services.js';
import { sessionsCutoff } from '../../auth/jwt.js';
import { hashPassword } from '../../auth/passwords.js';
import { enforcePolicy, verifyCurrentPassword } from '../../auth/providers/password.js';
import {
  completePasswordLink,
  RESET_SENT_MESSAGE,
  requestPasswordReset,
} from '../../auth/providers/password-links.js';
import { isFormPost, issueSession, setSessionCookie } from '../../auth/sessions.js';
import { routeLimit } from '../../plugins/rate-limits.js';
import { Email, errors, MessageResponse, Password, TokenResponse } from '../../schemas.js';
import { PasswordLinkPage } from '../../web/pages/auth-links.js';
import { sendPage } from '../../web/render.js';
import { Csrf, EmailBody, failForm, LinkToken, signIn, TokenQuery } from './shared.js';

const ChangeBody = Type.Object(
  { current_password: Password, new_password: Password },
  { additionalProperties: false },
);
const PasswordLinkBody = Type.Object(
  { token: LinkToken, password: Password, email: Type.Optional(Email), _csrf: Csrf },
  { additionalProperties: false },
);

/** Every way to set a password: change it while signed in, or use an emailed setup or reset link. */
export async function setPasswordRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, repos } = services.ctx;

  app.post(
    '/auth/password/change',
    {
      config: { auth: 'user', rateLimit: routeLimit(config, 'login') },
      schema: {
        tags: ['auth'],
        summary: 'Change the password; every other session ends',
        body: ChangeBody,
        response: { 200: TokenResponse, ...errors(400, 401, 422, 429) },
      },
    },
    async (request, reply) => {
      request.audit.action = 'auth.password_change';
      const user = await repos.users.getById(request.auth!.principal.id);
      if (!user) throw new AgnesError('unauthorized', 'authentication required');
      await verifyCurrentPassword(user, request.body.current_password);
      enforcePolicy(config, request.body.new_password, user.email);
      const cutoff = sessionsCutoff();
      const updated = await repos.users.update(user.id, {
        password_hash: await hashPassword(request.body.new_password),
        sessions_valid_after: cutoff.toISOString(),
      });
      const session = await issueSession(services.jwt, updated ?? user, cutoff);
      if (request.auth!.via === 'cookie') setSessionCookie(request, reply, config, session);
      return session;
    },
  );

  const passwordLinkRoute = (kind: 'setup' | 'reset') => {
    app.get(
      `/auth/password/${kind}`,
      {
        config: { auth: 'anon' },
        schema: {
          tags: ['auth'],
          summary: `Landing page of a password ${kind} link`,
          querystring: TokenQuery,
          hide: true,
        },
      },
      async (request, reply) =>
        sendPage(
          reply,
          PasswordLinkPage({
            ctx: pageContext(services, request, reply),
            token: request.query.token ?? '',
            kind,
            minLength: config.auth.password.min_length,
          }),
          { sensitive: true },
        ),
    );
    app.post(
      `/auth/password/${kind}`,
      {
        config: { auth: 'anon', csrf: 'form', rateLimit: routeLimit(config, 'verify') },
        schema: {
          tags: ['auth'],
          summary:
            kind === 'setup'
              ? 'Set the first password from an invite link'
              : 'Set a new password from a reset link',
          body: PasswordLinkBody,
          response: {
            200: kind === 'setup' ? TokenResponse : MessageResponse,
            ...errors(400, 403, 422, 429),
          },
        },
      },
      async (request, reply) => {
        request.audit.action = kind === 'setup' ? 'auth.password_setup' : 'auth.password_reset';
        try {
          const user = await completePasswordLink(repos, config, kind, request.body);
          request.audit.userId = user.id;
          if (kind === 'setup') return await signIn(services, request, reply, user, '/dashboard');
          if (isFormPost(request)) return reply.redirect('/login?reset=ok', 303);
          return { message: 'Your password was changed. Sign in with the new password.' };
        } catch (error) {
          const code =
            isAgnesError(error) && error.code === 'password_policy' ? 'password_policy' : 'invalid_token';
          return failForm(request, reply, error, `/auth/password/${kind}?error=${code}`);
        }
      },
    );
  };
  passwordLinkRoute('setup');
  passwordLinkRoute('reset');

  app.post(
    '/auth/password/reset-request',
    {
      config: { auth: 'anon', csrf: 'form', rateLimit: routeLimit(config, 'mail') },
      schema: {
        tags: ['auth'],
        summary: 'Email a password reset link (same answer for every address)',
        body: EmailBody,
        response: { 200: MessageResponse, ...errors(403, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      request.audit = { action: 'auth.password_reset_requested', params: { email: request.body.email } };
      await requestPasswordReset(
        { repos, config, mailer: services.mailer, perEmail: services.limits.mailPerEmail, log: request.log },
        request.body.email,
      );
      if (isFormPost(request)) return reply.redirect('/login?reset_requested=1', 303);
      return { message: RESET_SENT_MESSAGE };
    },
  );
}

import { type Static, Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AgnesError, isAgnesError } from '../../core/errors.js';
import type { User } from '../../core/state/repositories/index.js';
import type { AgnesApp } from '../app.js';
import { sessionsCutoff } from '../auth/jwt.js';
import { hashPassword } from '../auth/passwords.js';
import { type BootstrapInput, bootstrapAdmin } from '../auth/providers/bootstrap.js';
import {
  GoogleLoginError,
  OIDC_COOKIE,
  OIDC_COOKIE_PATH,
  OIDC_MAX_AGE_SECONDS,
} from '../auth/providers/google.js';
import {
  consumeMagicLink,
  LINK_SENT_MESSAGE,
  magicLinksEnabled,
  requestMagicLink,
} from '../auth/providers/magic-link.js';
import { enforcePolicy, passwordLogin, verifyCurrentPassword } from '../auth/providers/password.js';
import {
  completePasswordLink,
  RESET_SENT_MESSAGE,
  requestPasswordReset,
} from '../auth/providers/password-links.js';
import { safeNext } from '../auth/redirects.js';
import {
  clearSessionCookie,
  isFormPost,
  isSecure,
  issueSession,
  setSessionCookie,
  type TokenResponse,
} from '../auth/sessions.js';
import { cookiesOf } from '../cookies.js';
import { routeLimit } from '../plugins/rate-limits.js';
import {
  Email,
  errors,
  MessageResponse,
  Password,
  TokenResponse as TokenResponseSchema,
} from '../schemas.js';
import { type AppServices, pageContext } from '../services.js';
import { MagicLinkLanding, PasswordLinkPage } from '../web/pages/auth-links.js';
import { sendPage } from '../web/render.js';
import { UserView, userView } from './user-view.js';

const Csrf = Type.Optional(Type.String({ maxLength: 200 }));
const Next = Type.Optional(Type.String({ maxLength: 2048 }));
const LinkToken = Type.String({ minLength: 1, maxLength: 200 });

const LoginBody = Type.Object(
  { email: Email, password: Password, next: Next, _csrf: Csrf },
  { additionalProperties: false },
);
const BootstrapBody = Type.Object(
  {
    email: Email,
    password: Password,
    name: Type.Optional(Type.String({ maxLength: 200 })),
    bootstrap_token: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
const PasswordLinkBody = Type.Object(
  { token: LinkToken, password: Password, email: Type.Optional(Email), _csrf: Csrf },
  { additionalProperties: false },
);
const EmailBody = Type.Object({ email: Email, next: Next, _csrf: Csrf }, { additionalProperties: false });
const VerifyBody = Type.Object(
  { token: LinkToken, email: Type.Optional(Email), next: Next, _csrf: Csrf },
  { additionalProperties: false },
);
const ChangeBody = Type.Object(
  { current_password: Password, new_password: Password },
  { additionalProperties: false },
);
const LogoutBody = Type.Object(
  {
    all: Type.Optional(
      Type.Union([Type.Boolean(), Type.Literal('true'), Type.Literal('false'), Type.Literal('on')]),
    ),
    _csrf: Csrf,
  },
  { additionalProperties: false },
);
const TokenQuery = Type.Object(
  { token: Type.Optional(Type.String({ maxLength: 200 })), next: Next },
  { additionalProperties: false },
);

const MeResponse = Type.Composite([
  UserView,
  Type.Object({
    auth: Type.Object({
      method: Type.Union([Type.Literal('jwt'), Type.Literal('pat'), Type.Literal('ws_ticket')]),
      via: Type.Union([Type.Literal('bearer'), Type.Literal('cookie')]),
      issued_at: Type.String(),
      expires_at: Type.Union([Type.String(), Type.Null()]),
      token_id: Type.String(),
    }),
  }),
]);

const noStore = async (_request: FastifyRequest, reply: FastifyReply) => {
  reply.header('Cache-Control', 'no-store');
};

/** The authentication routes of 03 §1: password, bootstrap, magic link, Google, setup/reset, me, logout. */
export async function authRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;
  const { config, repos } = ctx;
  app.addHook('onSend', noStore);

  const signIn = async (
    request: FastifyRequest,
    reply: FastifyReply,
    user: User,
    next: unknown,
  ): Promise<TokenResponse | FastifyReply> => {
    request.audit.userId = user.id;
    const session = await issueSession(services.jwt, user);
    if (!isFormPost(request)) return session;
    setSessionCookie(request, reply, config, session);
    return reply.redirect(safeNext(next), 303);
  };

  /** Form posts end on a page with an error code; JSON clients get the error itself. */
  const failForm = (request: FastifyRequest, reply: FastifyReply, error: unknown, target: string) => {
    if (!isFormPost(request) || !isAgnesError(error) || error.code === 'csrf_failed') throw error;
    return reply.redirect(target, 303);
  };

  app.post(
    '/auth/token',
    {
      config: { auth: 'anon', rateLimit: routeLimit(config, 'login') },
      schema: {
        tags: ['auth'],
        summary: 'Exchange email and password for a session token',
        body: LoginBody,
        response: { 200: TokenResponseSchema, ...errors(401, 422, 429) },
      },
    },
    async (request) => {
      request.audit = { action: 'auth.login', params: { email: request.body.email } };
      try {
        const user = await passwordLogin(
          repos,
          config,
          services.limits.loginPerEmail,
          request.body.email,
          request.body.password,
        );
        request.audit.userId = user.id;
        return issueSession(services.jwt, user);
      } catch (error) {
        request.audit.action = 'auth.login_failed';
        throw error;
      }
    },
  );

  app.post(
    '/auth/password/login',
    {
      config: { auth: 'anon', csrf: 'form', rateLimit: routeLimit(config, 'login') },
      schema: {
        tags: ['auth'],
        summary: 'Password sign-in (JSON, or an HTML form that gets a cookie)',
        body: LoginBody,
        response: { 200: TokenResponseSchema, ...errors(401, 403, 422, 429) },
      },
    },
    async (request, reply) => {
      request.audit = { action: 'auth.login', params: { email: request.body.email } };
      try {
        const user = await passwordLogin(
          repos,
          config,
          services.limits.loginPerEmail,
          request.body.email,
          request.body.password,
        );
        return await signIn(request, reply, user, request.body.next);
      } catch (error) {
        request.audit.action = 'auth.login_failed';
        const next = request.body.next ? `&next=${encodeURIComponent(safeNext(request.body.next))}` : '';
        return failForm(request, reply, error, `/login?error=invalid_credentials${next}`);
      }
    },
  );

  app.post(
    '/auth/bootstrap',
    {
      config: { auth: 'anon', rateLimit: routeLimit(config, 'bootstrap') },
      schema: {
        tags: ['auth'],
        summary: 'Create the first admin (only while no user exists)',
        body: BootstrapBody,
        response: { 200: TokenResponseSchema, ...errors(401, 403, 422, 429) },
      },
    },
    async (request) => {
      request.audit = { action: 'auth.bootstrap', params: { email: request.body.email } };
      const user = await bootstrapAdmin(repos, config, request.body as BootstrapInput);
      request.audit.userId = user.id;
      return issueSession(services.jwt, user);
    },
  );

  app.post(
    '/auth/password/change',
    {
      config: { auth: 'user', rateLimit: routeLimit(config, 'login') },
      schema: {
        tags: ['auth'],
        summary: 'Change the password; every other session ends',
        body: ChangeBody,
        response: { 200: TokenResponseSchema, ...errors(400, 401, 422, 429) },
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
            200: kind === 'setup' ? TokenResponseSchema : MessageResponse,
            ...errors(400, 403, 422, 429),
          },
        },
      },
      async (request, reply) => {
        request.audit.action = kind === 'setup' ? 'auth.password_setup' : 'auth.password_reset';
        try {
          const user = await completePasswordLink(repos, config, kind, request.body);
          request.audit.userId = user.id;
          if (kind === 'setup') return await signIn(request, reply, user, '/dashboard');
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
      requestPasswordReset(
        { repos, config, mailer: services.mailer, perEmail: services.limits.mailPerEmail, log: request.log },
        request.body.email,
      );
      if (isFormPost(request)) return reply.redirect('/login?reset_requested=1', 303);
      return { message: RESET_SENT_MESSAGE };
    },
  );

  app.post(
    '/auth/email/send-link',
    {
      config: { auth: 'anon', csrf: 'form', rateLimit: routeLimit(config, 'mail') },
      schema: {
        tags: ['auth'],
        summary: 'Email a sign-in link (same answer for every address)',
        body: EmailBody,
        response: { 200: MessageResponse, ...errors(403, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      request.audit = { action: 'auth.magic_link_sent', params: { email: request.body.email } };
      requestMagicLink(
        { repos, config, mailer: services.mailer, perEmail: services.limits.mailPerEmail, log: request.log },
        request.body.email,
        request.body.next,
      );
      if (isFormPost(request)) return reply.redirect('/login?sent=1', 303);
      return { message: LINK_SENT_MESSAGE };
    },
  );

  app.get(
    '/auth/email/verify',
    {
      config: { auth: 'anon' },
      schema: {
        tags: ['auth'],
        summary: 'Landing page of a sign-in link (consumes nothing)',
        querystring: TokenQuery,
        hide: true,
      },
    },
    async (request, reply) => {
      if (!magicLinksEnabled({ config, mailer: services.mailer }))
        return reply.redirect('/login?error=email_not_configured', 303);
      const next = request.query.next ? safeNext(request.query.next) : null;
      return sendPage(
        reply,
        MagicLinkLanding({
          ctx: pageContext(services, request, reply),
          token: request.query.token ?? '',
          next,
        }),
        {
          sensitive: true,
        },
      );
    },
  );

  app.post(
    '/auth/email/verify',
    {
      config: { auth: 'anon', csrf: 'form', rateLimit: routeLimit(config, 'verify') },
      schema: {
        tags: ['auth'],
        summary: 'Use a sign-in link (single use)',
        body: VerifyBody,
        response: { 200: TokenResponseSchema, ...errors(401, 403, 422, 429) },
      },
    },
    async (request, reply) => {
      request.audit.action = 'auth.magic_link_used';
      try {
        const { user, next } = await consumeMagicLink(repos, request.body.token, request.body.email);
        return await signIn(request, reply, user, request.body.next ?? next);
      } catch (error) {
        return failForm(request, reply, error, '/login?error=invalid_link');
      }
    },
  );

  app.get(
    '/auth/google/login',
    {
      config: { auth: 'anon' },
      schema: {
        tags: ['auth'],
        summary: 'Start Google sign-in',
        querystring: Type.Object({ next: Next }),
        hide: true,
      },
    },
    async (request, reply) => {
      try {
        const { url, cookie } = await services.google.start(request.query.next);
        reply.setCookie(OIDC_COOKIE, cookie, {
          httpOnly: true,
          sameSite: 'lax',
          path: OIDC_COOKIE_PATH,
          maxAge: OIDC_MAX_AGE_SECONDS,
          secure: isSecure(request, config),
        });
        return reply.redirect(url, 302);
      } catch (error) {
        const reason = error instanceof GoogleLoginError ? error.reason : 'oauth_failed';
        return reply.redirect(`/login?error=${reason}`, 302);
      }
    },
  );

  app.get(
    '/auth/google/callback',
    {
      config: { auth: 'anon' },
      schema: { tags: ['auth'], summary: 'Google sign-in callback', hide: true },
    },
    async (request, reply) => {
      const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
      reply.setCookie(OIDC_COOKIE, '', {
        httpOnly: true,
        sameSite: 'lax',
        path: OIDC_COOKIE_PATH,
        maxAge: 0,
        secure: isSecure(request, config),
      });
      try {
        const { user, next } = await services.google.finish(query, cookiesOf(request)[OIDC_COOKIE]);
        const session = await issueSession(services.jwt, user);
        setSessionCookie(request, reply, config, session);
        request.log.info({ user: user.id }, 'google sign-in');
        return reply.redirect(next, 302);
      } catch (error) {
        const reason = error instanceof GoogleLoginError ? error.reason : 'oauth_failed';
        request.log.warn({ reason }, 'google sign-in refused');
        return reply.redirect(`/login?error=${reason}`, 302);
      }
    },
  );

  app.get(
    '/auth/me',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user and how they authenticated',
        response: { 200: MeResponse, ...errors(401) },
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

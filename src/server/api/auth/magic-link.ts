import { Type } from '@sinclair/typebox';
import type { AgnesApp } from '../../app.js';
import { type AppServices, pageContext } from '../../app-services.js';
import {
  consumeMagicLink,
  LINK_SENT_MESSAGE,
  magicLinksEnabled,
  requestMagicLink,
} from '../../auth/providers/magic-link.js';
import { safeNext } from '../../auth/redirects.js';
import { isFormPost } from '../../auth/sessions.js';
import { routeLimit } from '../../plugins/rate-limits.js';
import { Email, errors, MessageResponse, TokenResponse } from '../../schemas.js';
import { MagicLinkLanding } from '../../web/pages/auth-links.js';
import { sendPage } from '../../web/render.js';
import { Csrf, EmailBody, failForm, LinkToken, Next, signIn, TokenQuery } from './shared.js';

const VerifyBody = Type.Object(
  { token: LinkToken, email: Type.Optional(Email), next: Next, _csrf: Csrf },
  { additionalProperties: false },
);

/** Sign-in by a single-use link sent by email. */
export async function magicLinkRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, repos } = services.ctx;

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
      await requestMagicLink(
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
        response: { 200: TokenResponse, ...errors(401, 403, 422, 429) },
      },
    },
    async (request, reply) => {
      request.audit.action = 'auth.magic_link_used';
      try {
        const { user, next } = await consumeMagicLink(repos, request.body.token, request.body.email);
        return await signIn(services, request, reply, user, request.body.next ?? next);
      } catch (error) {
        return failForm(request, reply, error, '/login?error=invalid_link');
      }
    },
  );
}

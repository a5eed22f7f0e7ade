import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AgnesApp } from '../../app.js';
import type { AppServices } from '../../app-services.js';
import {
  GoogleLoginError,
  OIDC_COOKIE,
  OIDC_COOKIE_PATH,
  OIDC_MAX_AGE_SECONDS,
} from '../../auth/providers/google.js';
import { isSecure, issueSession, setSessionCookie } from '../../auth/sessions.js';
import { cookiesOf } from '../../cookies.js';
import { Next } from './shared.js';

/** The reason a failed Google sign-in shows on the login page. */
function refusal(error: unknown): string {
  return error instanceof GoogleLoginError ? error.reason : 'oauth_failed';
}

/** Google OIDC sign-in: a redirect out to Google and the callback that comes back with a session. */
export async function googleRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config } = services.ctx;
  const oidcCookie = (request: FastifyRequest, maxAge: number) => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    path: OIDC_COOKIE_PATH,
    maxAge,
    secure: isSecure(request, config),
  });

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
        reply.setCookie(OIDC_COOKIE, cookie, oidcCookie(request, OIDC_MAX_AGE_SECONDS));
        return reply.redirect(url, 302);
      } catch (error) {
        return reply.redirect(`/login?error=${refusal(error)}`, 302);
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
      reply.setCookie(OIDC_COOKIE, '', oidcCookie(request, 0));
      try {
        const { user, next } = await services.google.finish(query, cookiesOf(request)[OIDC_COOKIE]);
        const session = await issueSession(services.jwt, user);
        setSessionCookie(request, reply, config, session);
        request.log.info({ user: user.id }, 'google sign-in');
        return reply.redirect(next, 302);
      } catch (error) {
        const reason = refusal(error);
        request.log.warn({ reason }, 'google sign-in refused');
        return reply.redirect(`/login?error=${reason}`, 302);
      }
    },
  );
}

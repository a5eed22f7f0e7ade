import { Type } from '@sinclair/typebox';
import type { AgnesApp } from '../../app.js';
import type { AppServices } from '../../app-services.js';
import { passwordLogin } from '../../auth/providers/password.js';
import { safeNext } from '../../auth/redirects.js';
import { issueSession } from '../../auth/sessions.js';
import { routeLimit } from '../../plugins/rate-limits.js';
import { Email, errors, Password, TokenResponse } from '../../schemas.js';
import { Csrf, failForm, Next, signIn } from './shared.js';

const LoginBody = Type.Object(
  { email: Email, password: Password, next: Next, _csrf: Csrf },
  { additionalProperties: false },
);

/** Email and password for a session: as a token for API clients, or as a cookie for the login form. */
export async function passwordLoginRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, repos } = services.ctx;
  const login = (email: string, password: string) =>
    passwordLogin(repos, config, services.limits.loginPerEmail, email, password);

  app.post(
    '/auth/token',
    {
      config: { auth: 'anon', rateLimit: routeLimit(config, 'login') },
      schema: {
        tags: ['auth'],
        summary: 'Exchange email and password for a session token',
        body: LoginBody,
        response: { 200: TokenResponse, ...errors(401, 422, 429) },
      },
    },
    async (request) => {
      request.audit = { action: 'auth.login', params: { email: request.body.email } };
      try {
        const user = await login(request.body.email, request.body.password);
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
        response: { 200: TokenResponse, ...errors(401, 403, 422, 429) },
      },
    },
    async (request, reply) => {
      request.audit = { action: 'auth.login', params: { email: request.body.email } };
      try {
        const user = await login(request.body.email, request.body.password);
        return await signIn(services, request, reply, user, request.body.next);
      } catch (error) {
        request.audit.action = 'auth.login_failed';
        const next = request.body.next ? `&next=${encodeURIComponent(safeNext(request.body.next))}` : '';
        return failForm(request, reply, error, `/login?error=invalid_credentials${next}`);
      }
    },
  );
}

import { Type } from '@sinclair/typebox';
import type { AgnesApp } from '../../app.js';
import type { AppServices } from '../../app-services.js';
import { type BootstrapInput, bootstrapAdmin } from '../../auth/providers/bootstrap.js';
import { issueSession } from '../../auth/sessions.js';
import { routeLimit } from '../../plugins/rate-limits.js';
import { Email, errors, Password, TokenResponse } from '../../schemas.js';

const BootstrapBody = Type.Object(
  {
    email: Email,
    password: Password,
    name: Type.Optional(Type.String({ maxLength: 200 })),
    bootstrap_token: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

/** The first admin of an empty instance, signed in at once. */
export async function bootstrapRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, repos } = services.ctx;

  app.post(
    '/auth/bootstrap',
    {
      config: { auth: 'anon', rateLimit: routeLimit(config, 'bootstrap') },
      schema: {
        tags: ['auth'],
        summary: 'Create the first admin (only while no user exists)',
        body: BootstrapBody,
        response: { 200: TokenResponse, ...errors(401, 403, 422, 429) },
      },
    },
    async (request) => {
      request.audit = { action: 'auth.bootstrap', params: { email: request.body.email } };
      const user = await bootstrapAdmin(repos, config, request.body as BootstrapInput);
      request.audit.userId = user.id;
      return issueSession(services.jwt, user);
    },
  );
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { bootstrapRoutes } from './auth/bootstrap.js';
import { googleRoutes } from './auth/google.js';
import { magicLinkRoutes } from './auth/magic-link.js';
import { passwordLoginRoutes } from './auth/password-login.js';
import { sessionRoutes } from './auth/session.js';
import { setPasswordRoutes } from './auth/set-password.js';

const noStore = async (_request: FastifyRequest, reply: FastifyReply) => {
  reply.header('Cache-Control', 'no-store');
};

/**
 * The authentication routes of 03 §1, one router per sign-in method. They are registered in this
 * order because the OpenAPI document lists paths in registration order.
 */
export async function authRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  app.addHook('onSend', noStore);
  await passwordLoginRoutes(app, services);
  await bootstrapRoutes(app, services);
  await setPasswordRoutes(app, services);
  await magicLinkRoutes(app, services);
  await googleRoutes(app, services);
  await sessionRoutes(app, services);
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import type { AgnesApp, AuthLabel } from '../app.js';
import { type AppServices, pageContext } from '../app-services.js';
import type { PageContext } from './components/layout.js';
import { sendPage } from './render.js';

export type PageHandler = (
  ctx: PageContext,
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<VNode | FastifyReply>;

/** Registers one server-rendered page: HTML errors, sign-in redirect, hidden from OpenAPI. */
export function page(
  app: AgnesApp,
  services: AppServices,
  url: string,
  auth: AuthLabel,
  handler: PageHandler,
) {
  app.get(url, { config: { auth, page: true }, schema: { hide: true } }, async (request, reply) => {
    const ctx = pageContext(services, request, reply);
    if (ctx.user) ctx.unreadNotifications = await services.ctx.repos.notifications.countUnread(ctx.user.id);
    const result = await handler(ctx, request, reply);
    return 'sent' in result ? result : sendPage(reply, result);
  });
}

import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { isAgnesError } from '../../../core/errors.js';
import type { User } from '../../../core/state/repositories/index.js';
import type { AppServices } from '../../app-services.js';
import { safeNext } from '../../auth/redirects.js';
import { isFormPost, issueSession, setSessionCookie, type TokenResponse } from '../../auth/sessions.js';
import { Email } from '../../schemas.js';

export const Csrf = Type.Optional(Type.String({ maxLength: 200 }));
export const Next = Type.Optional(Type.String({ maxLength: 2048 }));
export const LinkToken = Type.String({ minLength: 1, maxLength: 200 });

export const EmailBody = Type.Object(
  { email: Email, next: Next, _csrf: Csrf },
  { additionalProperties: false },
);
export const TokenQuery = Type.Object(
  { token: Type.Optional(Type.String({ maxLength: 200 })), next: Next },
  { additionalProperties: false },
);

/** JSON clients get the session itself; a browser form gets it as a cookie and moves on to `next`. */
export async function signIn(
  services: AppServices,
  request: FastifyRequest,
  reply: FastifyReply,
  user: User,
  next: unknown,
): Promise<TokenResponse | FastifyReply> {
  request.audit.userId = user.id;
  const session = await issueSession(services.jwt, user);
  if (!isFormPost(request)) return session;
  setSessionCookie(request, reply, services.ctx.config, session);
  return reply.redirect(safeNext(next), 303);
}

/** Form posts end on a page with an error code; JSON clients get the error itself. */
export function failForm(request: FastifyRequest, reply: FastifyReply, error: unknown, target: string) {
  if (!isFormPost(request) || !isAgnesError(error) || error.code === 'csrf_failed') throw error;
  return reply.redirect(target, 303);
}

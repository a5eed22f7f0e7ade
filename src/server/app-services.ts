import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime/runtime.js';
import type { JwtService } from './auth/jwt.js';
import type { Mailer } from './auth/mailer.js';
import type { Authenticator } from './auth/principal.js';
import type { GoogleLogin } from './auth/providers/google.js';
import { isSecure } from './auth/sessions.js';
import type { CsrfProtection } from './plugins/csrf.js';
import type { EmailLimiter } from './plugins/rate-limits.js';
import type { PageContext } from './web/components/layout.js';
import { styleNonce } from './web/render.js';

/** What routers share: the app context plus the server-side services built once per app. */
export interface AppServices {
  ctx: Runtime;
  jwt: JwtService;
  authenticator: Authenticator;
  csrf: CsrfProtection;
  mailer: Mailer | null;
  google: GoogleLogin;
  limits: { loginPerEmail: EmailLimiter; mailPerEmail: EmailLimiter };
}

/** Everything a server-rendered page needs from the request (nonce, CSRF token, config, the user). */
export function pageContext(
  services: AppServices,
  request: FastifyRequest,
  reply: FastifyReply,
): PageContext {
  const user = request.auth?.user;
  return {
    config: services.ctx.config,
    styleNonce: styleNonce(reply),
    csrfToken: services.csrf.ensureCookie(request, reply, isSecure(request, services.ctx.config)),
    ...(user ? { user: { id: user.id, email: user.email, name: user.name, role: user.role } } : {}),
    path: request.url.split('?')[0] ?? '/',
    version: services.ctx.version,
  };
}

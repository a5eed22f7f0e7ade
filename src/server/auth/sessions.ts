import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenResponse } from '../../contract/index.js';
import type { InstanceConfig } from '../../core/config/index.js';
import type { User } from '../../core/state/repositories/index.js';
import type { JwtService } from './jwt.js';
import { ACCESS_COOKIE } from './principal.js';

export type { TokenResponse };

export async function issueSession(
  jwt: JwtService,
  user: User,
  now: Date = new Date(),
): Promise<TokenResponse> {
  // `iat` has whole seconds and `sessions_valid_after` is rounded up to the next one (logout
  // everywhere, password setup/reset): a session issued within that second would be born dead,
  // so it is dated at the cut-off instead (at most one second ahead).
  const validAfter = user.sessions_valid_after ? Date.parse(user.sessions_valid_after) : Number.NaN;
  const ahead = validAfter - now.getTime();
  const issuedAt = ahead > 0 && ahead <= 1000 ? new Date(validAfter) : now;
  const { token, claims } = await jwt.sign(user.id, issuedAt);
  return {
    access_token: token,
    token_type: 'bearer',
    expires_in: claims.exp - claims.iat,
    expires_at: new Date(claims.exp * 1000).toISOString(),
    user_id: user.id,
    email: user.email,
    role: user.role,
  };
}

/** HTTPS as the client sees it: the public URL says so, or a trusted proxy reported it. */
export function isSecure(request: FastifyRequest, config: InstanceConfig): boolean {
  return config.server.public_url?.startsWith('https:') === true || request.protocol === 'https';
}

/** The session cookie of 04 §3 cookies: HttpOnly, Lax, lifetime of the JWT. */
export function setSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  config: InstanceConfig,
  session: TokenResponse,
): void {
  reply.setCookie(ACCESS_COOKIE, session.access_token, {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: isSecure(request, config),
    maxAge: session.expires_in,
  });
}

export function clearSessionCookie(
  request: FastifyRequest,
  reply: FastifyReply,
  config: InstanceConfig,
): void {
  reply.setCookie(ACCESS_COOKIE, '', {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: isSecure(request, config),
    maxAge: 0,
  });
}

/** True when the body came from an HTML form rather than a JSON client. */
export function isFormPost(request: FastifyRequest): boolean {
  return String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

import type { FastifyRequest } from 'fastify';

/**
 * The request's cookies, parsed on first use. @fastify/cookie runs with `hook: false`: parsing the
 * Cookie header of every request cost a third of a cheap route's throughput, and only
 * authentication, CSRF and the OIDC callback read cookies.
 */
export function cookiesOf(request: FastifyRequest): Record<string, string | undefined> {
  if (!request.cookies) {
    const header = request.headers.cookie;
    request.cookies = header ? request.server.parseCookie(header) : {};
  }
  return request.cookies;
}

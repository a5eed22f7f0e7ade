import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AgnesError } from '../../core/errors.js';
import { cookiesOf } from '../cookies.js';

export const CSRF_COOKIE = 'agnes_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const CSRF_FIELD = '_csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Signed double-submit CSRF protection (04 §4.2): the cookie holds `<random>.<hmac>`, forms echo it
 * in `_csrf`, scripts in `X-CSRF-Token`. The signature (a key derived for CSRF only) stops a
 * cookie planted by a sibling domain from being accepted.
 */
export class CsrfProtection {
  constructor(
    private readonly key: Buffer,
    private readonly allowedOrigin: string,
  ) {}

  #sign(nonce: string): string {
    return createHmac('sha256', this.key).update(nonce).digest('base64url');
  }

  issue(): string {
    const nonce = randomBytes(32).toString('base64url');
    return `${nonce}.${this.#sign(nonce)}`;
  }

  isGenuine(token: string | undefined): token is string {
    if (!token) return false;
    const [nonce, signature, ...rest] = token.split('.');
    if (!nonce || !signature || rest.length > 0) return false;
    const expected = Buffer.from(this.#sign(nonce));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** The existing valid cookie value, or a fresh one set on the reply. */
  ensureCookie(request: FastifyRequest, reply: FastifyReply, secure: boolean): string {
    const current = cookiesOf(request)[CSRF_COOKIE];
    if (this.isGenuine(current)) return current;
    const token = this.issue();
    reply.setCookie(CSRF_COOKIE, token, { path: '/', sameSite: 'strict', secure, httpOnly: false });
    return token;
  }

  /** Throws 403 `csrf_failed` unless the request carries the cookie's token and comes from our origin. */
  verify(request: FastifyRequest): void {
    if (SAFE_METHODS.has(request.method)) return;
    const cookie = cookiesOf(request)[CSRF_COOKIE];
    const header = request.headers[CSRF_HEADER];
    const field = (request.body as Record<string, unknown> | undefined)?.[CSRF_FIELD];
    const submitted = typeof header === 'string' ? header : typeof field === 'string' ? field : undefined;
    const matches =
      this.isGenuine(cookie) &&
      submitted !== undefined &&
      submitted.length === cookie.length &&
      timingSafeEqual(Buffer.from(submitted), Buffer.from(cookie));
    if (!matches || !this.#sameOrigin(request))
      throw new AgnesError('csrf_failed', 'CSRF check failed; reload the page and try again');
  }

  #sameOrigin(request: FastifyRequest): boolean {
    const origin = request.headers.origin ?? request.headers.referer;
    if (origin === undefined) return true;
    // Pages sent with `Referrer-Policy: no-referrer` (the emailed-link landing pages) make the
    // browser send `Origin: null` even for their own forms; the browser's own Fetch Metadata
    // header still tells a same-origin post from a sandboxed or foreign one.
    if (origin === 'null') return request.headers['sec-fetch-site'] === 'same-origin';
    try {
      return new URL(origin).origin === this.allowedOrigin;
    } catch {
      return false;
    }
  }
}

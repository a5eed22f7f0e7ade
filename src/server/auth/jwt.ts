import { randomBytes } from 'node:crypto';
import { decodeJwt, errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { JwtSecrets } from '../../core/config/index.js';
import { MIN_JWT_SECRET_LENGTH } from '../../core/config/secrets.js';

export const ISSUER = 'agnes';
export const SESSION_AUDIENCE = 'agnes';
/** WebSocket tickets (08 §9): accepted only by `GET /auth/me`, once. */
export const WS_TICKET_AUDIENCE = 'agnes-ws';
export const WS_TICKET_TTL_SECONDS = 60;
/** How long after `exp` a token still verifies (04 §2 JWT details). */
export const CLOCK_TOLERANCE_SECONDS = 30;

export interface SessionClaims {
  sub: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface IssuedToken {
  token: string;
  claims: SessionClaims;
}

/** A WebSocket ticket's claims: the issuing session's `jti` (`sid`) and its expiry (`sexp`). */
export interface TicketClaims extends SessionClaims {
  sid: string;
  sexp: number;
}

const JTI = /^[0-9a-f]{32}$/;

/**
 * The `sessions_valid_after` value that ends every session issued until now. JWT `iat` has whole
 * seconds, so the cut-off is the next full second: older tokens fall before it, and a token issued
 * with `now` = the cut-off (as a password change does for its fresh token) falls on it.
 */
export function sessionsCutoff(now: Date = new Date()): Date {
  return new Date(Math.ceil(now.getTime() / 1000) * 1000);
}

/** Thrown for every verification failure; callers answer one 401 `invalid_token` whatever the cause. */
export class InvalidTokenError extends Error {
  constructor() {
    super('invalid token');
    this.name = 'InvalidTokenError';
  }
}

/**
 * Session JWTs (04 §2 JWT details): HS256 only, pinned on verification; `sub`, `jti`, `iat`, `exp`, fixed
 * issuer and audience; no role or email claim. A previous secret verifies during rotation.
 */
export class JwtService {
  readonly #current: Uint8Array;
  readonly #previous: Uint8Array | null;
  readonly #ttlSeconds: number;

  constructor(secrets: JwtSecrets, ttlHours: number) {
    if (secrets.current.length < MIN_JWT_SECRET_LENGTH)
      throw new Error('JWT_SECRET_KEY: must be at least 32 characters long');
    this.#current = new TextEncoder().encode(secrets.current);
    this.#previous = secrets.previous ? new TextEncoder().encode(secrets.previous) : null;
    this.#ttlSeconds = ttlHours * 3600;
  }

  get ttlSeconds(): number {
    return this.#ttlSeconds;
  }

  async sign(
    userId: string,
    now: Date = new Date(),
    audience = SESSION_AUDIENCE,
    ttlSeconds = this.#ttlSeconds,
    extra: Record<string, string | number> = {},
  ): Promise<IssuedToken> {
    const iat = Math.floor(now.getTime() / 1000);
    const claims: SessionClaims = {
      sub: userId,
      jti: randomBytes(16).toString('hex'),
      iat,
      exp: iat + ttlSeconds,
    };
    const token = await new SignJWT(extra)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .setIssuer(ISSUER)
      .setAudience(audience)
      .sign(this.#current);
    return { token, claims };
  }

  async verify(token: string, audience = SESSION_AUDIENCE): Promise<SessionClaims> {
    const payload = await this.#payload(token, audience);
    return { sub: payload.sub, jti: payload.jti, iat: payload.iat as number, exp: payload.exp as number };
  }

  /** A ticket for the WebSocket gateway, issued from the session `session` (08 §9). */
  signTicket(session: SessionClaims, now: Date = new Date()): Promise<IssuedToken> {
    return this.sign(session.sub, now, WS_TICKET_AUDIENCE, WS_TICKET_TTL_SECONDS, {
      sid: session.jti,
      sexp: session.exp,
    });
  }

  async verifyTicket(token: string): Promise<TicketClaims> {
    const payload = await this.#payload(token, WS_TICKET_AUDIENCE);
    if (typeof payload.sid !== 'string' || !JTI.test(payload.sid) || typeof payload.sexp !== 'number')
      throw new InvalidTokenError();
    return {
      sub: payload.sub,
      jti: payload.jti,
      iat: payload.iat as number,
      exp: payload.exp as number,
      sid: payload.sid,
      sexp: payload.sexp,
    };
  }

  async #payload(token: string, audience: string): Promise<JWTPayload & { sub: string; jti: string }> {
    for (const key of this.#previous ? [this.#current, this.#previous] : [this.#current]) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        });
        if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || !JTI.test(payload.jti)) {
          throw new InvalidTokenError();
        }
        return payload as JWTPayload & { sub: string; jti: string };
      } catch (error) {
        // Only a bad signature is worth trying the previous key for.
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw new InvalidTokenError();
      }
    }
    throw new InvalidTokenError();
  }
}

/** Which audience an unverified token claims, to pick how to verify it; never a decision by itself. */
export function claimedAudience(token: string): string | null {
  try {
    const { aud } = decodeJwt(token);
    return typeof aud === 'string' ? aud : null;
  } catch {
    return null;
  }
}

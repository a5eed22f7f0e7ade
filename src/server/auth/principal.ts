import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../core/access/decide.js';
import { toPrincipal } from '../../core/access/principal.js';
import { AgnesError } from '../../core/errors.js';
import type {
  PatPrincipalRecord,
  PrincipalRecord,
  Repositories,
  SessionPrincipalRecord,
  User,
} from '../../core/state/repositories/index.js';
import type { UserAttributes } from '../../core/state/repositories/user-attributes.js';
import { RevisionCache } from '../../core/state/revision-cache.js';
import { cookiesOf } from '../cookies.js';
import {
  CLOCK_TOLERANCE_SECONDS,
  claimedAudience,
  InvalidTokenError,
  type JwtService,
  WS_TICKET_AUDIENCE,
} from './jwt.js';
import { PAT_PREFIX, sha256Hex } from './pat.js';

export const ACCESS_COOKIE = 'access_token';

export interface Authentication {
  principal: Principal;
  /** The user row loaded for this request (handlers need not load it again). */
  user: User;
  /** The user's stored attributes (12 §1), read with the user row. */
  attributes: UserAttributes;
  method: 'jwt' | 'pat' | 'ws_ticket';
  via: 'bearer' | 'cookie';
  /** The JWT's `jti`, or the PAT's id. */
  tokenId: string;
  issuedAt: string;
  expiresAt: string | null;
}

const BEARER = /^Bearer[ ]+([^\s]+)[ ]*$/i;
const TOUCH_INTERVAL_MS = 60_000;
const CACHED_PRINCIPALS = 10_000;

/** What a credential resolves to: the stored record and what is derived from it once, not per request. */
interface Resolved<R extends PrincipalRecord> {
  record: R;
  principal: Principal;
  attributes: UserAttributes;
}

function unauthorized(): AgnesError {
  return new AgnesError('unauthorized', 'invalid or missing credentials');
}

/** Every session-JWT failure is this one 401, whatever the cause (04 §2 JWT details). */
function invalidToken(): AgnesError {
  return new AgnesError('invalid_token', 'invalid token');
}

/**
 * Finds who is calling (04 §1.1 credentials and where they are read): an `Authorization` header, if present, must be a non-empty
 * Bearer credential and wins over the cookie; `agnes_pat_…` is a personal access token, anything
 * else a session JWT. The user row (role, activity, groups) is loaded on every request.
 */
export class Authenticator {
  readonly #touched = new Map<string, number>();
  // The user row, groups, attributes and token state by credential, while the principals revision
  // holds: any change to a user, a membership, a group name, a user's attributes or a token's
  // revocation moves it (from any process), so a deactivated user or a revoked token is refused at once.
  readonly #pats = new RevisionCache<Resolved<PatPrincipalRecord>>(CACHED_PRINCIPALS);
  readonly #sessions = new RevisionCache<Resolved<SessionPrincipalRecord>>(CACHED_PRINCIPALS);

  constructor(
    private readonly repos: Repositories,
    private readonly jwt: JwtService,
  ) {}

  /**
   * Null for an anonymous request; throws 401 for a present but unusable credential. With
   * `cookie: false` the session cookie is not looked at, so a browser page cannot act as its user.
   */
  async authenticate(
    request: FastifyRequest,
    options: { cookie?: boolean; wsTicket?: boolean } = {},
  ): Promise<Authentication | null> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = BEARER.exec(header);
      if (!match?.[1]) throw unauthorized();
      return this.bearer(match[1], request.ip, options);
    }
    if (options.cookie === false) return null;
    const cookie = cookiesOf(request)[ACCESS_COOKIE];
    if (cookie) {
      if (cookie.startsWith(PAT_PREFIX)) throw unauthorized();
      return this.#credential(cookie, 'cookie', request.ip);
    }
    return null;
  }

  /**
   * A Bearer credential as `GET /auth/me` sees it when `wsTicket` is set: a WebSocket ticket is
   * accepted (and spent) there and nowhere else (08 §9). The in-process gateway calls this directly.
   */
  bearer(token: string, ip: string, options: { wsTicket?: boolean } = {}): Promise<Authentication> {
    // A PAT is never a ticket: decoding it as a JWT would only build and throw away an error.
    if (options.wsTicket && !token.startsWith(PAT_PREFIX) && claimedAudience(token) === WS_TICKET_AUDIENCE)
      return this.#ticket(token);
    return this.#credential(token, 'bearer', ip);
  }

  async #credential(credential: string, via: 'bearer' | 'cookie', ip: string): Promise<Authentication> {
    return credential.startsWith(PAT_PREFIX) ? this.#pat(credential, ip) : this.#jwt(credential, via);
  }

  /** The principals revision is read on every call; the record only when that revision moved. */
  async #resolve<R extends PrincipalRecord>(
    cache: RevisionCache<Resolved<R>>,
    key: string,
    load: () => Promise<R | undefined>,
  ): Promise<Resolved<R> | undefined> {
    const revision = await this.repos.revisions.principals();
    const cached = cache.get(key, revision);
    if (cached) return cached;
    const record = await load();
    if (!record) return undefined;
    const resolved: Resolved<R> = {
      record,
      principal: toPrincipal(record.user, record.groups),
      attributes: await this.repos.userAttributes.get(record.user.id),
    };
    cache.set(key, revision, resolved);
    return resolved;
  }

  async #pat(token: string, ip: string): Promise<Authentication> {
    const hash = sha256Hex(token);
    const resolved = await this.#resolve(this.#pats, hash, () => this.repos.principals.byTokenHash(hash));
    const now = Date.now();
    const row = resolved?.record.token;
    if (!resolved || !row || row.revoked_at || (row.expires_at && Date.parse(row.expires_at) <= now))
      throw unauthorized();
    if (!resolved.record.user.active) throw unauthorized();
    const last = this.#touched.get(row.id) ?? 0;
    if (now - last >= TOUCH_INTERVAL_MS) {
      this.#touched.set(row.id, now);
      await this.repos.tokens.touchLastUsed(row.id, ip);
    }
    return {
      principal: resolved.principal,
      user: resolved.record.user,
      attributes: resolved.attributes,
      method: 'pat',
      via: 'bearer',
      tokenId: row.id,
      issuedAt: row.created_at,
      expiresAt: row.expires_at,
    };
  }

  async #jwt(token: string, via: 'bearer' | 'cookie'): Promise<Authentication> {
    const claims = await verified(() => this.jwt.verify(token));
    const session = await this.#session(claims.sub, claims.jti, claims.iat);
    return {
      principal: session.principal,
      user: session.record.user,
      attributes: session.attributes,
      method: 'jwt',
      via,
      tokenId: claims.jti,
      issuedAt: new Date(claims.iat * 1000).toISOString(),
      expiresAt: new Date(claims.exp * 1000).toISOString(),
    };
  }

  /** The user row, groups and revocation of a session `jti` in one query, checked as 04 §2 says. */
  async #session(userId: string, jti: string, issuedAt: number): Promise<Resolved<SessionPrincipalRecord>> {
    const resolved = await this.#resolve(this.#sessions, `${userId}\u0000${jti}`, () =>
      this.repos.principals.bySession(userId, jti),
    );
    if (!resolved || resolved.record.revoked || !resolved.record.user.active) throw invalidToken();
    const validAfter = resolved.record.user.sessions_valid_after;
    if (validAfter && issuedAt * 1000 < Date.parse(validAfter)) throw invalidToken();
    return resolved;
  }

  /**
   * A WebSocket ticket (08 §9): valid while its issuing session is, and spent by its first use.
   * The socket it opens lives as long as that session, so the session's id and expiry are what
   * the gateway re-checks later.
   */
  async #ticket(token: string): Promise<Authentication> {
    const claims = await verified(() => this.jwt.verifyTicket(token));
    if (claims.sexp * 1000 <= Date.now()) throw invalidToken();
    const session = await this.#session(claims.sub, claims.sid, claims.iat);
    // Kept while the ticket would still verify, so a replay within the clock tolerance is refused too.
    const spentUntil = new Date((claims.exp + CLOCK_TOLERANCE_SECONDS) * 1000).toISOString();
    if (!(await this.repos.tokens.consumeJti(claims.jti, claims.sub, spentUntil))) throw invalidToken();
    return {
      principal: session.principal,
      user: session.record.user,
      attributes: session.attributes,
      method: 'ws_ticket',
      via: 'bearer',
      tokenId: claims.sid,
      issuedAt: new Date(claims.iat * 1000).toISOString(),
      expiresAt: new Date(claims.sexp * 1000).toISOString(),
    };
  }
}

async function verified<T>(verify: () => Promise<T>): Promise<T> {
  try {
    return await verify();
  } catch (error) {
    if (error instanceof InvalidTokenError) throw invalidToken();
    throw error;
  }
}

import * as oidc from 'openid-client';
import type { InstanceConfig } from '../../../core/config/index.js';
import { errorMessage } from '../../../core/errors.js';
import type { Repositories, User } from '../../../core/state/repositories/index.js';
import { safeNext } from '../redirects.js';
import { signValue, verifySignedValue } from '../signed-value.js';

export const OIDC_COOKIE = 'agnes_oidc';
export const OIDC_COOKIE_PATH = '/auth/google';
export const OIDC_MAX_AGE_SECONDS = 600;

export type GoogleFailure =
  | 'google_not_configured'
  | 'oauth_failed'
  | 'email_not_verified'
  | 'domain_not_allowed'
  | 'account_disabled'
  | 'no_account';

export class GoogleLoginError extends Error {
  constructor(readonly reason: GoogleFailure) {
    super(reason);
    this.name = 'GoogleLoginError';
  }
}

interface FlowState {
  state: string;
  nonce: string;
  verifier: string;
  next: string;
  created_at: number;
}

/**
 * Google sign-in through openid-client (04 §1.4): discovery, PKCE S256, state and nonce kept in a
 * signed cookie, `email_verified` and the domain allow-list enforced. Fails closed: without a
 * client id, secret and at least one allowed domain it is off.
 */
export class GoogleLogin {
  #configuration: Promise<oidc.Configuration> | null = null;

  constructor(
    private readonly config: InstanceConfig,
    private readonly repos: Repositories,
    private readonly stateKey: Buffer,
  ) {}

  get enabled(): boolean {
    const google = this.config.auth.google;
    return Boolean(google.client_id && google.client_secret && google.allowed_domains.length > 0);
  }

  get redirectUri(): string {
    // From configuration only, never from the Host header.
    return new URL('/auth/google/callback', this.config.server.public_url).toString();
  }

  #discover(): Promise<oidc.Configuration> {
    if (!this.#configuration) {
      const google = this.config.auth.google;
      const issuer = new URL(google.issuer);
      // Plain HTTP only when the operator configured an http issuer (a loopback test provider).
      const execute = issuer.protocol === 'http:' ? [oidc.allowInsecureRequests] : [];
      this.#configuration = oidc.discovery(issuer, google.client_id!, google.client_secret!, undefined, {
        execute,
      });
      this.#configuration.catch(() => {
        this.#configuration = null;
      });
    }
    return this.#configuration;
  }

  /** The provider URL to redirect to, and the signed cookie value holding the flow's secrets. */
  async start(next: unknown): Promise<{ url: string; cookie: string }> {
    if (!this.enabled) throw new GoogleLoginError('google_not_configured');
    let configuration: oidc.Configuration;
    try {
      configuration = await this.#discover();
    } catch {
      throw new GoogleLoginError('oauth_failed');
    }
    const flow: FlowState = {
      state: oidc.randomState(),
      nonce: oidc.randomNonce(),
      verifier: oidc.randomPKCECodeVerifier(),
      next: safeNext(next),
      created_at: Date.now(),
    };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: 'openid email profile',
      response_type: 'code',
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: 'S256',
      state: flow.state,
      nonce: flow.nonce,
    });
    return { url: url.toString(), cookie: signValue(this.stateKey, flow) };
  }

  /** Completes the flow from the callback's query string; returns the signed-in user and `next`. */
  async finish(query: string, cookie: string | undefined): Promise<{ user: User; next: string }> {
    if (!this.enabled) throw new GoogleLoginError('google_not_configured');
    const flow = verifySignedValue<FlowState>(this.stateKey, cookie);
    if (!flow || Date.now() - flow.created_at > OIDC_MAX_AGE_SECONDS * 1000)
      throw new GoogleLoginError('oauth_failed');
    let claims: oidc.IDToken | undefined;
    try {
      const configuration = await this.#discover();
      const callback = new URL(`${this.redirectUri}${query ? `?${query}` : ''}`);
      const tokens = await oidc.authorizationCodeGrant(configuration, callback, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      claims = tokens.claims();
    } catch (error) {
      throw Object.assign(new GoogleLoginError('oauth_failed'), { cause: errorMessage(error) });
    }
    if (claims?.email_verified !== true || typeof claims.email !== 'string')
      throw new GoogleLoginError('email_not_verified');
    const email = claims.email.trim().toLowerCase();
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!this.config.auth.google.allowed_domains.some((d) => d.toLowerCase() === domain))
      throw new GoogleLoginError('domain_not_allowed');
    return {
      user: await this.#account(email, typeof claims.name === 'string' ? claims.name : ''),
      next: flow.next,
    };
  }

  async #account(email: string, name: string): Promise<User> {
    const existing = await this.repos.users.getByEmail(email);
    if (existing) {
      if (!existing.active || existing.is_service) throw new GoogleLoginError('account_disabled');
      return (
        (await this.repos.users.update(existing.id, { last_login_at: new Date().toISOString() })) ?? existing
      );
    }
    if (!this.config.auth.google.auto_create) throw new GoogleLoginError('no_account');
    const user = await this.repos.users.create({
      email,
      name: name.slice(0, 200),
      role: this.config.auth.google.default_role,
    });
    return (await this.repos.users.update(user.id, { last_login_at: new Date().toISOString() })) ?? user;
  }
}

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

/** Claims the provider releases for an account (the ID token carries them, as Google's does). */
export interface AccountClaims {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface FakeOidc {
  /** Issuer URL (`http://127.0.0.1:<port>`), for `auth.google.issuer`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Account id → claims; tests add the account they sign in with. */
  accounts: Map<string, AccountClaims>;
  /**
   * Plays the browser at the provider: follows the redirects from `authorizationUrl`, signs in as
   * `accountId` on the login form, confirms consent, and returns the URL the provider finally
   * redirects to (the relying party's callback, with `code` and `state`).
   */
  authorize(authorizationUrl: string, accountId: string): Promise<URL>;
  close(): Promise<void>;
}

/** A tiny cookie jar: name → value, across every path of one host (enough for the provider's cookies). */
class CookieJar {
  readonly #cookies = new Map<string, string>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => {
        const [key = '', val = ''] = a.trim().split('=');
        if (key.toLowerCase() === 'max-age') return Number(val) <= 0;
        if (key.toLowerCase() === 'expires') return Date.parse(val) <= Date.now();
        return false;
      });
      if (expired || value === '') this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

const unescapeHtml = (text: string) =>
  text
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#x2F;/gi, '/');

/**
 * A real OpenID Connect provider (`oidc-provider` v9) on 127.0.0.1 with one confidential client
 * (`client_secret_post`, PKCE required, authorization code flow) and an in-memory account store.
 * Logins go through the provider's development interactions (a login form and a consent form).
 */
export async function startFakeOidc(options: { redirectUri: string }): Promise<FakeOidc> {
  const clientId = 'agnes-test-client';
  const clientSecret = 'agnes-test-client-secret-0123456789';
  const accounts = new Map<string, AccountClaims>();
  let handler: (request: IncomingMessage, response: ServerResponse) => void = (_request, response) => {
    response.statusCode = 503;
    response.end();
  };
  const server = createServer((request, response) => handler(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    pkce: { required: () => true },
    // Like Google: the ID token itself carries email, email_verified and name.
    conformIdTokenClaims: false,
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    cookies: { keys: ['fake-oidc-cookie-key-0123456789'] },
    jwks: { keys: [signingKey] },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx: unknown, id: string) {
      const claims = accounts.get(id);
      if (!claims) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
  });
  handler = provider.callback();

  async function authorize(authorizationUrl: string, accountId: string): Promise<URL> {
    const jar = new CookieJar();
    let url = authorizationUrl;
    let body: URLSearchParams | undefined;
    for (let step = 0; step < 20; step += 1) {
      const headers: Record<string, string> = { cookie: jar.header() };
      if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
      const response = await fetch(url, {
        method: body ? 'POST' : 'GET',
        headers,
        body: body?.toString(),
        redirect: 'manual',
      });
      jar.store(response);
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        const next = new URL(location, url);
        if (next.origin !== issuer) return next;
        url = next.href;
        body = undefined;
        continue;
      }
      const html = await response.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
      if (response.status !== 200 || !action || !prompt)
        throw new Error(`provider answered ${response.status}: ${html.slice(0, 500)}`);
      url = new URL(unescapeHtml(action), url).href;
      body =
        prompt === 'login'
          ? new URLSearchParams({ prompt: 'login', login: accountId, password: 'any' })
          : new URLSearchParams({ prompt });
    }
    throw new Error('too many steps at the provider');
  }

  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    authorize,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

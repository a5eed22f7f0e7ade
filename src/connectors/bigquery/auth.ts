import { readFile } from 'node:fs/promises';
import { importPKCS8, SignJWT } from 'jose';
import { fetchWithRetries, HttpFailure, type RetryTuning } from '../../core/http/retry.js';
import { BigQueryError, fromHttpFailure, readJson } from './errors.js';

export const BIGQUERY_SCOPE = 'https://www.googleapis.com/auth/bigquery.readonly';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** A cached token is renewed this long before it expires (07 §4 BigQuery). */
const RENEW_BEFORE_MS = 60_000;

export interface ServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  token_uri: string;
}

/**
 * The fields of a service-account JSON key the JWT-bearer grant needs. Messages name the missing
 * field, never a value: the file holds a private key.
 */
export function parseServiceAccountKey(text: string): ServiceAccountKey {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new BigQueryError('credentials_required', 'credentials_file is not JSON');
  }
  if (parsed?.type !== 'service_account')
    throw new BigQueryError('credentials_required', 'credentials_file is not a service-account key');
  for (const field of ['client_email', 'private_key', 'token_uri'] as const)
    if (typeof parsed[field] !== 'string' || !parsed[field])
      throw new BigQueryError('credentials_required', `credentials_file has no ${field}`);
  const tokenUri = parsed.token_uri as string;
  if (!isAllowedTokenUri(tokenUri))
    throw new BigQueryError('credentials_required', 'credentials_file token_uri must be https');
  return {
    client_email: parsed.client_email as string,
    private_key: parsed.private_key as string,
    token_uri: tokenUri,
    ...(typeof parsed.private_key_id === 'string' ? { private_key_id: parsed.private_key_id } : {}),
  };
}

/** The signed assertion travels to `token_uri`: https only, plain http only to loopback (tests). */
function isAllowedTokenUri(raw: string): boolean {
  try {
    const url = new URL(raw);
    return url.protocol === 'https:' || (url.protocol === 'http:' && url.hostname === '127.0.0.1');
  } catch {
    return false;
  }
}

export async function readServiceAccountKey(path: string): Promise<ServiceAccountKey> {
  if (!path) throw new BigQueryError('credentials_required', 'no credentials_file is configured');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new BigQueryError('credentials_required', 'credentials_file cannot be read');
  }
  return parseServiceAccountKey(text);
}

/**
 * OAuth2 access tokens for a service account by the JWT-bearer grant (RFC 7523): an RS256
 * assertion signed with the key, posted to its `token_uri`. One token is shared by all calls of a
 * run and renewed a minute before it expires.
 */
export class TokenSource {
  readonly #key: ServiceAccountKey;
  readonly #tuning: RetryTuning;
  #cached: { token: string; expiresAt: number } | null = null;
  #pending: Promise<string> | null = null;

  constructor(key: ServiceAccountKey, tuning: RetryTuning) {
    this.#key = key;
    this.#tuning = tuning;
  }

  async token(): Promise<string> {
    if (this.#cached && Date.now() < this.#cached.expiresAt - RENEW_BEFORE_MS) return this.#cached.token;
    // Parallel table lookups share one grant instead of each signing its own.
    this.#pending ??= this.#fetchToken().finally(() => {
      this.#pending = null;
    });
    return this.#pending;
  }

  async #fetchToken(): Promise<string> {
    let signingKey: CryptoKey;
    try {
      signingKey = await importPKCS8(this.#key.private_key, 'RS256');
    } catch {
      throw new BigQueryError('credentials_required', 'credentials_file private_key is not a PKCS#8 RSA key');
    }
    const assertion = await new SignJWT({ scope: BIGQUERY_SCOPE })
      .setProtectedHeader({
        alg: 'RS256',
        typ: 'JWT',
        ...(this.#key.private_key_id ? { kid: this.#key.private_key_id } : {}),
      })
      .setIssuer(this.#key.client_email)
      .setAudience(this.#key.token_uri)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(signingKey);
    let response: Response;
    try {
      response = await fetchWithRetries(
        this.#key.token_uri,
        {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: JWT_BEARER, assertion }),
        },
        this.#tuning,
      );
    } catch (error) {
      // Google answers a rejected assertion with 400 invalid_grant, not 401.
      if (error instanceof HttpFailure && error.status === 400)
        throw new BigQueryError('auth_failed', 'the token endpoint refused the credentials (HTTP 400)');
      throw fromHttpFailure(error, 'the token endpoint');
    }
    const body = (await readJson(response, 'the token endpoint')) as {
      access_token?: unknown;
      expires_in?: unknown;
    };
    if (typeof body.access_token !== 'string' || !body.access_token)
      throw new BigQueryError('auth_failed', 'the token endpoint returned no access token');
    const seconds = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    this.#cached = { token: body.access_token, expiresAt: Date.now() + seconds * 1000 };
    return body.access_token;
  }
}

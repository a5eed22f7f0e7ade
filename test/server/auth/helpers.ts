import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { type JWTPayload, SignJWT } from 'jose';
import { expect } from 'vitest';
import { call, type TestServer, type TestUser } from '../../support/server.js';

/** Signs arbitrary claims with any key and algorithm, for tamper tests (10 §4 `mintJwt`). */
export async function mintJwt(
  claims: JWTPayload,
  key: string | Uint8Array | CryptoKey | KeyObject,
  alg = 'HS256',
): Promise<string> {
  const secret = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT' }).sign(secret);
}

/** Claims of a well-formed session token for `userId`; `overrides` replace or (as undefined) drop claims. */
export function sessionClaims(userId: string, overrides: Record<string, unknown> = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    sub: userId,
    jti: randomBytes(16).toString('hex'),
    iat: now,
    exp: now + 3600,
    iss: 'agnes',
    aud: 'agnes',
    ...overrides,
  };
  for (const [key, value] of Object.entries(claims)) if (value === undefined) delete claims[key];
  return claims;
}

export const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

export type Reply = Awaited<ReturnType<typeof call>>;

/** The error format of 03 §0.2: short string detail, a code, the request id; no `errors` unless 422. */
export function expectErrorBody(reply: Reply, status: number, code?: string): void {
  expect(reply.status).toBe(status);
  expect(reply.body).toMatchObject({ detail: expect.any(String), code: expect.any(String) });
  expect(reply.body.request_id).toBe(reply.headers.get('x-request-id'));
  if (code) expect(reply.body.code).toBe(code);
  if (status !== 422) expect(reply.body.errors).toBeUndefined();
}

/** 401 in the error format with `WWW-Authenticate: Bearer` (03 §0.1). */
export function expectUnauthorized(reply: Reply): void {
  expectErrorBody(reply, 401);
  expect(reply.headers.get('www-authenticate')).toBe('Bearer');
}

export interface SetCookie {
  value: string;
  /** Attribute names lower-cased; flag attributes map to ''. */
  attributes: Map<string, string>;
}

/** The last `Set-Cookie` for `name` in a response, parsed; undefined when the response sets none. */
export function setCookie(headers: Headers, name: string): SetCookie | undefined {
  const lines = headers.getSetCookie().filter((line) => line.startsWith(`${name}=`));
  const line = lines.at(-1);
  if (line === undefined) return undefined;
  const [pair = '', ...rest] = line.split(';');
  const attributes = new Map<string, string>();
  for (const attribute of rest) {
    const eq = attribute.indexOf('=');
    const key = (eq < 0 ? attribute : attribute.slice(0, eq)).trim().toLowerCase();
    attributes.set(key, eq < 0 ? '' : attribute.slice(eq + 1).trim());
  }
  return { value: decodeURIComponent(pair.slice(name.length + 1)), attributes };
}

/** A `Cookie` request header from name/value pairs. */
export function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
    .join('; ');
}

/** A fresh CSRF cookie value, as a browser gets it from any HTML page (here the reset landing page). */
export async function csrfToken(server: TestServer): Promise<string> {
  const page = await call(server, 'GET', '/auth/password/reset?token=landing');
  expect(page.status).toBe(200);
  const cookie = setCookie(page.headers, 'agnes_csrf');
  expect(cookie?.value).toBeTruthy();
  return cookie!.value;
}

/** A session JWT for the user through the JSON password login. */
export async function loginJwt(
  server: TestServer,
  user: Pick<TestUser, 'email' | 'password'>,
): Promise<string> {
  const reply = await call(server, 'POST', '/auth/token', {
    body: { email: user.email, password: user.password },
  });
  expect(reply.status).toBe(200);
  return reply.body.access_token as string;
}

/** Location of a redirect, as a path relative to the server (or absolute when it leaves it). */
export function locationOf(reply: Reply): string {
  const location = reply.headers.get('location');
  expect(location).toBeTruthy();
  return location!;
}

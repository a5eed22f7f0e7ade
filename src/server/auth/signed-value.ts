import { createHmac, timingSafeEqual } from 'node:crypto';

/** A JSON value with an HMAC, for state kept in a cookie (the OIDC flow). */
export function signValue(key: Buffer, value: unknown): string {
  const body = Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`;
}

export function verifySignedValue<T>(key: Buffer, signed: string | undefined): T | null {
  if (!signed) return null;
  const [body, mac, ...rest] = signed.split('.');
  if (!body || !mac || rest.length > 0) return null;
  const expected = Buffer.from(createHmac('sha256', key).update(body).digest('base64url'));
  const given = Buffer.from(mac);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
  } catch {
    return null;
  }
}

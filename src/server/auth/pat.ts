import { hash, randomBytes } from 'node:crypto';

/** Personal access tokens (04 §1.5): `agnes_pat_` + 43 base64url characters; only a SHA-256 is stored. */
export const PAT_PREFIX = 'agnes_pat_';
const PAT_PATTERN = /^agnes_pat_[A-Za-z0-9_-]{43}$/;

export function generatePat(): { token: string; hash: string; prefix: string } {
  const token = `${PAT_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: sha256Hex(token), prefix: token.slice(0, 14) };
}

export function isPatShaped(credential: string): boolean {
  return PAT_PATTERN.test(credential);
}

/** One-shot hashing: a PAT is hashed on every request it authenticates, and a Hash object per call costs more than the digest. */
export function sha256Hex(value: string): string {
  return hash('sha256', value, 'hex');
}

/** A random single-use token for links (magic link, invite, reset): 32 bytes, base64url. */
export function randomLinkToken(): string {
  return randomBytes(32).toString('base64url');
}

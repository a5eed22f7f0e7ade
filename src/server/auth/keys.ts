import { hkdfSync } from 'node:crypto';

/**
 * Purpose-bound keys derived from the JWT secret with HKDF-SHA256 (04 §2 JWT details): no key serves two
 * purposes, and none needs its own configuration.
 */
export type KeyPurpose = 'csrf' | 'oidc-state';

export function deriveKey(secret: string, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'agnes', `agnes ${purpose} key v1`, 32));
}

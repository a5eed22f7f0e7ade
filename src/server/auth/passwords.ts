import { randomBytes } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';

// `Algorithm` is an ambient const enum, unusable as a value under isolated modules; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

/**
 * Argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane). The async API runs on
 * libuv's thread pool, so hashing never blocks the event loop.
 */
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

/** A random password that satisfies the default rules: 20 URL-safe characters. */
export function randomPassword(): string {
  return randomBytes(15).toString('base64url');
}

import { randomBytes } from 'node:crypto';
import { ConfigError } from './load.js';
import type { Env } from './resolve-env.js';
import { stateSecret } from './state-secret.js';

export const MIN_JWT_SECRET_LENGTH = 32;

export interface JwtSecrets {
  current: string;
  /** Accepted for verification during rotation. */
  previous: string | null;
}

const REQUIRED = `JWT_SECRET_KEY: must be set and at least ${MIN_JWT_SECRET_LENGTH} characters long`;

/**
 * Reads the JWT signing secret, failing closed. Only `agnes demo` may generate one, stored as
 * `state/jwt-secret` (0600) so demo sessions survive restarts.
 */
export function resolveJwtSecrets(env: Env, options: { dataDir: string; demo?: boolean }): JwtSecrets {
  const previous = env.JWT_SECRET_KEY_PREVIOUS || null;
  if (previous !== null && previous.length < MIN_JWT_SECRET_LENGTH) {
    throw new ConfigError([
      `JWT_SECRET_KEY_PREVIOUS: must be at least ${MIN_JWT_SECRET_LENGTH} characters long`,
    ]);
  }
  const configured = env.JWT_SECRET_KEY;
  if (configured !== undefined && configured !== '') {
    if (configured.length < MIN_JWT_SECRET_LENGTH) throw new ConfigError([REQUIRED]);
    return { current: configured, previous };
  }
  if (!options.demo) throw new ConfigError([REQUIRED]);
  const current = stateSecret(options.dataDir, 'jwt-secret', {
    generate: () => randomBytes(48).toString('base64url'),
    usable: (stored) => stored.length >= MIN_JWT_SECRET_LENGTH,
  });
  return { current, previous };
}

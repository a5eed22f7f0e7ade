import { createHash, randomBytes } from 'node:crypto';
import { ConfigError } from '../config/load.js';
import type { Env } from '../config/resolve-env.js';
import { stateSecret } from '../config/state-secret.js';

export const MIN_POLICY_SALT_LENGTH = 32;
const SALT_FILE = 'policy-salt';
const GENERATED = /^[0-9a-f]{64}$/;

/** The salt of `hash` masks (12 §1, §6) and its version, a part of every slice key. */
export interface PolicySalt {
  readonly salt: string;
  /** Changes exactly when the salt does; safe to show and to store. */
  readonly saltVersion: string;
}

/**
 * `AGNES_POLICY_SALT` (at least 32 characters, else the instance refuses to start), or a salt
 * generated once into `DATA_DIR/state/policy-salt` (64 hex characters, mode 0600). Serialises as
 * its version alone, so a log line or response that picks the object up by mistake leaks nothing.
 */
export function resolvePolicySalt(env: Env, dataDir: string): PolicySalt {
  const configured = env.AGNES_POLICY_SALT;
  if (configured !== undefined && configured !== '') {
    if (configured.length < MIN_POLICY_SALT_LENGTH)
      throw new ConfigError([
        `AGNES_POLICY_SALT: must be at least ${MIN_POLICY_SALT_LENGTH} characters long`,
      ]);
    return policySalt(configured);
  }
  return policySalt(
    stateSecret(dataDir, SALT_FILE, {
      generate: () => randomBytes(32).toString('hex'),
      usable: (stored) => GENERATED.test(stored),
    }),
  );
}

function policySalt(salt: string): PolicySalt {
  const saltVersion = createHash('sha256').update(salt).digest('hex').slice(0, 16);
  return Object.freeze({ salt, saltVersion, toJSON: () => ({ saltVersion }) });
}

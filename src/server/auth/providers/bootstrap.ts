import { timingSafeEqual } from 'node:crypto';
import type { InstanceConfig } from '../../../core/config/index.js';
import { AgnesError } from '../../../core/errors.js';
import type { Repositories, User } from '../../../core/state/repositories/index.js';
import { hashPassword } from '../passwords.js';
import { sha256Hex } from '../pat.js';
import { enforcePolicy } from './password.js';

export interface BootstrapInput {
  email: string;
  password: string;
  name?: string;
  bootstrap_token?: string;
}

const disabled = () => new AgnesError('bootstrap_disabled', 'bootstrap is disabled once a user exists');

function tokenMatches(expected: string, given: string | undefined): boolean {
  // Hashing first makes the comparison constant-time whatever the lengths.
  return (
    given !== undefined &&
    timingSafeEqual(Buffer.from(sha256Hex(expected), 'hex'), Buffer.from(sha256Hex(given), 'hex'))
  );
}

/**
 * The first admin (04 §1.6 bootstrap): only while no user exists, password required, optional bootstrap
 * token. The count and the insert share one transaction on the state store's single connection,
 * so of any number of concurrent calls exactly one succeeds.
 */
export async function bootstrapAdmin(
  repos: Repositories,
  config: InstanceConfig,
  input: BootstrapInput,
): Promise<User> {
  const required = config.auth.bootstrap_token;
  if (required && !tokenMatches(required, input.bootstrap_token)) {
    throw new AgnesError('invalid_bootstrap_token', 'bootstrap token missing or wrong');
  }
  if ((await repos.users.count()) > 0) throw disabled();
  enforcePolicy(config, input.password, input.email);
  const passwordHash = await hashPassword(input.password);
  return repos.transaction(async (r) => {
    if ((await r.users.count()) > 0) throw disabled();
    return r.users.create({
      email: input.email,
      name: input.name ?? '',
      role: 'admin',
      password_hash: passwordHash,
    });
  });
}

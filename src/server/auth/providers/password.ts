import type { InstanceConfig } from '../../../core/config/index.js';
import { AgnesError } from '../../../core/errors.js';
import type { Repositories, User } from '../../../core/state/repositories/index.js';
import { type EmailLimiter, rateLimited } from '../../plugins/rate-limits.js';
import { passwordProblem } from '../password-policy.js';
import { hashPassword, randomPassword, verifyPassword } from '../passwords.js';

const CURRENT_PARAMETERS = /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/;

/** A hash to verify against for unknown accounts, so timing does not reveal which emails exist. */
let dummyHash: Promise<string> | null = null;
function dummy(): Promise<string> {
  dummyHash ??= hashPassword(randomPassword());
  return dummyHash;
}

const invalid = () => new AgnesError('invalid_credentials', 'invalid email or password');

export function enforcePolicy(config: InstanceConfig, password: string, email: string | null): void {
  const problem = passwordProblem(password, { minLength: config.auth.password.min_length, email });
  if (problem) throw new AgnesError('password_policy', problem);
}

/**
 * Password sign-in (04 §1.2). Every failure — unknown email, no password, wrong password,
 * inactive or service account — is the same 401, and costs the same hash verification.
 */
export async function passwordLogin(
  repos: Repositories,
  config: InstanceConfig,
  failures: EmailLimiter,
  email: string,
  password: string,
): Promise<User> {
  if (!config.auth.password.enabled) throw invalid();
  const wait = await failures.retryAfter(email);
  if (wait > 0) throw rateLimited(wait);
  const user = await repos.users.getByEmail(email);
  const ok = await verifyPassword(user?.password_hash ?? (await dummy()), password);
  if (!user?.password_hash || !ok || !user.active || user.is_service) {
    await failures.hit(email);
    throw invalid();
  }
  const patch: Parameters<Repositories['users']['update']>[1] = { last_login_at: new Date().toISOString() };
  if (!CURRENT_PARAMETERS.test(user.password_hash)) patch.password_hash = await hashPassword(password);
  return (await repos.users.update(user.id, patch)) ?? user;
}

/** Checks the current password of a signed-in user (password change). */
export async function verifyCurrentPassword(user: User, password: string): Promise<void> {
  if (!user.password_hash)
    throw new AgnesError('no_password', 'this account has no password; use a reset link instead');
  if (!(await verifyPassword(user.password_hash, password))) throw invalid();
}

import { AgnesError } from '../../core/errors.js';
import type { Repositories, User, UserPatch } from '../../core/state/repositories/index.js';
import type { Role } from '../../core/state/schema.js';
import { sessionsCutoff } from './jwt.js';

/** What an admin (API) or the operator (`agnes users …`) may change on an account. */
export interface AccountChange {
  name?: string;
  role?: Role;
  active?: boolean;
}

const lastAdmin = () =>
  new AgnesError('last_admin', 'this would leave no active admin; make another user admin first');

/** True when the change takes an active admin out of the set of active admins. */
function removesActiveAdmin(user: User, change: AccountChange): boolean {
  if (user.role !== 'admin' || !user.active) return false;
  return (change.role !== undefined && change.role !== 'admin') || change.active === false;
}

/**
 * Changes name, role or activity (03 §8 users). The last-admin check and the change share one
 * transaction, so two admins demoting each other at once cannot both succeed. Deactivation ends
 * every session (`sessions_valid_after`) and revokes the user's tokens (04 §1.5, §1.8).
 * Undefined when the user does not exist.
 */
export function changeAccount(
  repos: Repositories,
  userId: string,
  change: AccountChange,
): Promise<User | undefined> {
  return repos.transaction(async (r) => {
    const user = await r.users.getById(userId);
    if (!user) return undefined;
    if (removesActiveAdmin(user, change) && (await r.users.countActiveAdmins()) <= 1) throw lastAdmin();
    const patch: UserPatch = {};
    if (change.name !== undefined) patch.name = change.name;
    if (change.role !== undefined) patch.role = change.role;
    if (change.active !== undefined) patch.active = change.active;
    if (change.active === false && user.active) {
      patch.sessions_valid_after = sessionsCutoff().toISOString();
      await r.tokens.revokeAllForUser(user.id);
    }
    if (Object.keys(patch).length === 0) return user;
    return r.users.update(user.id, patch);
  });
}

/**
 * Deletes a user; tokens, memberships, grants, settings and pending requests go by cascade
 * (02 §5.2 new tables). The last active admin cannot be deleted. False when the user does not exist.
 */
export function deleteAccount(repos: Repositories, userId: string): Promise<boolean> {
  return repos.transaction(async (r) => {
    const user = await r.users.getById(userId);
    if (!user) return false;
    if (removesActiveAdmin(user, { active: false }) && (await r.users.countActiveAdmins()) <= 1)
      throw lastAdmin();
    return r.users.delete(user.id);
  });
}

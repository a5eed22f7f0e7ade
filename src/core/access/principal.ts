import type { Repositories, User } from '../state/repositories/index.js';
import type { Principal } from './decide.js';

/** The principal of a stored user: what the access function judges. */
export function toPrincipal(user: User, groups: readonly { id: string; name: string }[]): Principal {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    active: user.active,
    is_service: user.is_service,
    groups,
  };
}

/**
 * Another user as the access function sees them now (an alert's owner, a Telegram chat's account,
 * the admin's view of a user): role, activity and groups read afresh from the store.
 */
export async function principalOfUser(repos: Repositories, user: User): Promise<Principal> {
  const groups = await repos.groups.listGroupsOfUser(user.id);
  return toPrincipal(
    user,
    groups.map(({ id, name }) => ({ id, name })),
  );
}

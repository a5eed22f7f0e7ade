import type { User } from '../../core/state/repositories/index.js';

/** The API's `User` (03 §0.6 common shapes): never the password hash or token fields. */
export function userView(user: User, groups: readonly { id: string; name: string }[]) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    active: user.active,
    is_service: user.is_service,
    created_at: user.created_at,
    updated_at: user.updated_at,
    last_login_at: user.last_login_at,
    groups: groups.map((g) => ({ id: g.id, name: g.name })),
  };
}

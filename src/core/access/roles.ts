import type { Role } from '../state/schema.js';

/** The role ladder (04 §5 roles and function-level checks): a higher role includes every right of the lower ones. */
export const ROLES: readonly Role[] = ['viewer', 'analyst', 'km_admin', 'admin'];

const LEVEL: Record<Role, number> = { viewer: 0, analyst: 1, km_admin: 2, admin: 3 };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && value in LEVEL;
}

export function hasRole(actual: Role, minimum: Role): boolean {
  return LEVEL[actual] >= LEVEL[minimum];
}

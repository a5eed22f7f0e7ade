import type { NewRegistryEntry, User } from '../../../src/core/state/repositories/index.js';
import type { Role } from '../../../src/core/state/schema.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { JwtService } from '../../../src/server/auth/jwt.js';

/** Registers a table straight in the state store; default-deny and discoverable unless told. */
export async function registerTable(
  ctx: Runtime,
  id: string,
  options: Partial<Omit<NewRegistryEntry, 'id'>> = {},
): Promise<void> {
  await ctx.repos.registry.register({ id, name: id, source: 'local', source_type: 'local', ...options });
}

let counter = 0;

/** A user without password or token, created straight in the state store (fast: no hashing). */
export async function plainUser(ctx: Runtime, role: Role = 'analyst', email?: string): Promise<User> {
  counter += 1;
  return ctx.repos.users.create({ email: email ?? `plain-${counter}-${Date.now()}@example.com`, role });
}

/** A session JWT for the user, as a password login would issue it. */
export async function sessionToken(ctx: Runtime, userId: string, now = new Date()): Promise<string> {
  const jwt = new JwtService(ctx.secrets, ctx.config.auth.jwt_ttl_hours);
  return (await jwt.sign(userId, now)).token;
}

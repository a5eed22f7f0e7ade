import { AgnesError, isAgnesError } from '../../core/errors.js';
import type { Repositories, User } from '../../core/state/repositories/index.js';
import type { Role } from '../../core/state/schema.js';
import { sessionsCutoff } from '../../server/auth/jwt.js';
import { hashPassword } from '../../server/auth/passwords.js';
import { enforcePolicy } from '../../server/auth/providers/password.js';
import { changeAccount } from '../../server/auth/user-changes.js';
import { printJson } from '../output.js';
import { readStdin, withOperatorState } from '../state.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export async function userByEmail(repos: Repositories, email: string): Promise<User> {
  const user = await repos.users.getByEmail(email);
  if (!user) throw new AgnesError('not_found', `no user with email ${email.trim().toLowerCase()}`);
  return user;
}

function describe(user: User): string {
  const flags = [user.active ? 'active' : 'inactive', ...(user.is_service ? ['service'] : [])];
  return `${user.email} (${user.role}, ${flags.join(', ')}) ${user.id}`;
}

/**
 * `agnes users create`: the operator's way to the first admin and to service accounts (01 §6 the agnes executable,
 * 04 §1.6 bootstrap). An admin needs a password (policy applies) unless it is a service account, which
 * never has one.
 */
export async function createUserCommand(options: {
  email: string;
  name?: string;
  role: Role;
  passwordStdin: boolean;
  service: boolean;
}): Promise<number> {
  const email = options.email.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email))
    throw new AgnesError('validation_failed', 'invalid email address');
  if (options.service && options.passwordStdin)
    throw new AgnesError('validation_failed', 'service accounts have no password; drop --password-stdin');
  if (options.role === 'admin' && !options.service && !options.passwordStdin) {
    throw new AgnesError(
      'validation_failed',
      'an admin needs a password: pipe one with --password-stdin (or use --service for a service account)',
    );
  }
  return withOperatorState(async ({ instance, repos }) => {
    let passwordHash: string | null = null;
    if (options.passwordStdin) {
      const password = await readStdin();
      enforcePolicy(instance.loaded.config, password, email);
      passwordHash = await hashPassword(password);
    }
    try {
      const user = await repos.users.create({
        email,
        name: options.name ?? '',
        role: options.role,
        password_hash: passwordHash,
        is_service: options.service,
      });
      process.stdout.write(`created ${describe(user)}\n`);
      return 0;
    } catch (error) {
      if (isAgnesError(error) && error.code === 'conflict')
        throw new AgnesError('email_exists', `a user with email ${email} already exists`);
      throw error;
    }
  });
}

/** `agnes users list [--json]`, sorted by email. */
export function listUsersCommand(options: { json: boolean }): Promise<number> {
  return withOperatorState(async ({ repos }) => {
    const users: User[] = [];
    for (let page = 1; ; page += 1) {
      const batch = await repos.users.list({}, { page, per_page: 200 });
      users.push(...batch.items);
      if (users.length >= batch.total || batch.items.length === 0) break;
    }
    if (options.json) {
      printJson(
        users.map((u) => ({
          id: u.id,
          email: u.email,
          name: u.name,
          role: u.role,
          active: u.active,
          is_service: u.is_service,
          has_password: u.password_hash !== null,
          created_at: u.created_at,
          last_login_at: u.last_login_at,
        })),
      );
    } else {
      for (const user of users) process.stdout.write(`${describe(user)}\n`);
    }
    return 0;
  });
}

/** `agnes users set-role EMAIL ROLE`: the last active admin cannot be demoted. */
export function setRoleCommand(email: string, role: Role): Promise<number> {
  return withOperatorState(async ({ repos }) => {
    const user = await userByEmail(repos, email);
    const updated = (await changeAccount(repos, user.id, { role })) ?? user;
    process.stdout.write(`updated ${describe(updated)}\n`);
    return 0;
  });
}

/** `agnes users set-password EMAIL --password-stdin`: policy applies; every session of the user ends. */
export function setPasswordCommand(email: string, options: { passwordStdin: boolean }): Promise<number> {
  if (!options.passwordStdin)
    throw new AgnesError('validation_failed', 'pipe the new password with --password-stdin');
  return withOperatorState(async ({ instance, repos }) => {
    const user = await userByEmail(repos, email);
    if (user.is_service) throw new AgnesError('service_account', 'service accounts sign in with tokens only');
    const password = await readStdin();
    enforcePolicy(instance.loaded.config, password, user.email);
    await repos.users.update(user.id, {
      password_hash: await hashPassword(password),
      sessions_valid_after: sessionsCutoff().toISOString(),
      setup_token: null,
      setup_token_created: null,
      reset_token: null,
      reset_token_created: null,
    });
    process.stdout.write(`password set for ${user.email}; existing sessions ended\n`);
    return 0;
  });
}

/** `agnes users deactivate EMAIL`: sessions end and tokens are revoked; the last admin stays. */
export function deactivateCommand(email: string): Promise<number> {
  return withOperatorState(async ({ repos }) => {
    const user = await userByEmail(repos, email);
    const updated = (await changeAccount(repos, user.id, { active: false })) ?? user;
    process.stdout.write(`deactivated ${describe(updated)}\n`);
    return 0;
  });
}

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Repositories, User } from '../../core/state/repositories/index.js';
import type { Role } from '../../core/state/schema.js';
import { hashPassword, randomPassword } from '../../server/auth/passwords.js';

export interface DemoLogin {
  role: Role;
  email: string;
  password: string;
}

export const DEMO_ACCOUNTS: readonly { role: Role; email: string; name: string }[] = [
  { role: 'admin', email: 'admin@demo.agnes.local', name: 'Demo Admin' },
  { role: 'analyst', email: 'analyst@demo.agnes.local', name: 'Demo Analyst' },
];

function credentialsFile(dataDir: string): string {
  return join(dataDir, 'state', 'demo-credentials.txt');
}

function readStored(dataDir: string): Map<string, string> {
  const file = credentialsFile(dataDir);
  const stored = new Map<string, string>();
  if (!existsSync(file)) return stored;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^(\S+@\S+)\s+(\S+)$/.exec(line.trim());
    if (match) stored.set(match[1]!, match[2]!);
  }
  return stored;
}

/**
 * The demo admin and analyst with random passwords (Argon2id in the state store), written to
 * `state/demo-credentials.txt` (0600) so later starts can print them again.
 */
export async function ensureDemoUsers(
  repos: Repositories,
  dataDir: string,
): Promise<{ logins: DemoLogin[]; users: User[] }> {
  const stored = readStored(dataDir);
  const logins: DemoLogin[] = [];
  const users: User[] = [];
  for (const account of DEMO_ACCOUNTS) {
    let user = await repos.users.getByEmail(account.email);
    let password = stored.get(account.email);
    if (!user || !password) {
      password = randomPassword();
      const passwordHash = await hashPassword(password);
      user = user
        ? ((await repos.users.update(user.id, {
            password_hash: passwordHash,
            active: true,
            role: account.role,
          })) ?? user)
        : await repos.users.create({
            email: account.email,
            name: account.name,
            role: account.role,
            password_hash: passwordHash,
          });
    }
    logins.push({ role: account.role, email: account.email, password });
    users.push(user);
  }
  const text = `# Agnes demo logins (generated; keep private)\n${logins.map((l) => `${l.email} ${l.password}`).join('\n')}\n`;
  writeFileSync(credentialsFile(dataDir), text, { mode: 0o600 });
  return { logins, users };
}

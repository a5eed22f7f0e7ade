import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateDb, type StateDb } from '../../src/core/state/db.js';
import { migrateToLatest } from '../../src/core/state/migrate.js';
import { createRepositories, type Repositories } from '../../src/core/state/repositories/index.js';
import { verifyPassword } from '../../src/server/auth/passwords.js';
import { generatePat, sha256Hex } from '../../src/server/auth/pat.js';
import { tempDir } from '../support/extracts.js';
import { type RunResult, runAgnes } from '../support/processes.js';

/**
 * `agnes users …` and `agnes tokens …` (01 §6) through the compiled executable against a real
 * state store, which the test opens alongside to seed and inspect.
 */

const PASSWORD = 'a-long-unusual-passphrase';
const DAY_MS = 86_400_000;

let dir: string;
let cleanup: () => Promise<void>;
let db: StateDb;
let repos: Repositories;

beforeEach(async () => {
  ({ path: dir, cleanup } = await tempDir('agnes-users-cli-'));
  db = openStateDb(join(dir, 'data'));
  await migrateToLatest(db);
  repos = createRepositories(db);
});

afterEach(async () => {
  await db.destroy();
  await cleanup();
});

function agnes(args: string[], stdin?: string): Promise<RunResult> {
  return runAgnes(args, {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'warn' },
    input: stdin ?? '',
    killAfterMs: 9_000,
  });
}

describe('agnes users', () => {
  it('creates the first admin only with a password from stdin', async () => {
    const refused = await agnes(['users', 'create', '--email', 'root@example.com', '--role', 'admin']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/an admin needs a password/);
    expect(await repos.users.count()).toBe(0);

    const created = await agnes(
      [
        'users',
        'create',
        '--email',
        'Root@Example.com',
        '--name',
        'Root',
        '--role',
        'admin',
        '--password-stdin',
      ],
      `${PASSWORD}\n`,
    );
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created root@example\.com \(admin, active\)/);
    const user = await repos.users.getByEmail('root@example.com');
    expect(user).toMatchObject({ name: 'Root', role: 'admin', active: true, is_service: false });
    expect(await verifyPassword(user!.password_hash!, PASSWORD)).toBe(true);
  });

  it('applies the password policy, refuses duplicates and passwords for service accounts', async () => {
    const weak = await agnes(
      ['users', 'create', '--email', 'weak@example.com', '--password-stdin'],
      'password\n',
    );
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/password must be at least 10 characters/);
    await repos.users.create({ email: 'taken@example.com' });
    const dup = await agnes(['users', 'create', '--email', 'TAKEN@example.com', '--service']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
    expect(await repos.users.count()).toBe(1);
  });

  it('creates a password-less service admin, and refuses a service account with a password', async () => {
    const service = await agnes([
      'users',
      'create',
      '--email',
      'scheduler@example.com',
      '--role',
      'admin',
      '--service',
    ]);
    expect(service.code, service.stderr).toBe(0);
    expect(await repos.users.getByEmail('scheduler@example.com')).toMatchObject({
      role: 'admin',
      is_service: true,
      password_hash: null,
    });
    const both = await agnes(
      ['users', 'create', '--email', 'bot@example.com', '--service', '--password-stdin'],
      PASSWORD,
    );
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/service accounts have no password/);
  });

  it('lists users, and never demotes the last active admin', async () => {
    const admin = await repos.users.create({ email: 'admin@example.com', role: 'admin' });
    await repos.users.create({ email: 'ana@example.com', role: 'analyst', name: 'Ana' });
    const list = await agnes(['users', 'list', '--json']);
    expect(list.code).toBe(0);
    const users = JSON.parse(list.stdout) as { email: string; role: string }[];
    expect(users.map((u) => [u.email, u.role])).toEqual([
      ['admin@example.com', 'admin'],
      ['ana@example.com', 'analyst'],
    ]);
    expect(list.stdout).not.toMatch(/password_hash|setup_token/);
    const demote = await agnes(['users', 'set-role', 'admin@example.com', 'analyst']);
    expect(demote.code).toBe(1);
    expect(demote.stderr).toMatch(/no active admin/);
    expect((await repos.users.getById(admin.id))?.role).toBe('admin');
  });

  it('changes roles and deactivates: sessions end and tokens are revoked', async () => {
    await repos.users.create({ email: 'admin@example.com', role: 'admin' });
    const user = await repos.users.create({ email: 'leaver@example.com', role: 'viewer' });
    const pat = generatePat();
    await repos.tokens.create({
      user_id: user.id,
      name: 't',
      token_hash: pat.hash,
      prefix: pat.prefix,
      expires_at: null,
    });
    const role = await agnes(['users', 'set-role', 'leaver@example.com', 'km_admin']);
    expect(role.code, role.stderr).toBe(0);
    expect((await repos.users.getById(user.id))?.role).toBe('km_admin');
    const off = await agnes(['users', 'deactivate', 'leaver@example.com']);
    expect(off.code, off.stderr).toBe(0);
    const after = await repos.users.getById(user.id);
    expect(after).toMatchObject({ active: false, sessions_valid_after: expect.any(String) });
    expect((await repos.tokens.listByUser(user.id))[0]?.revoked_at).toEqual(expect.any(String));
  });

  it('sets a password from stdin, ending the sessions; the flag is required', async () => {
    const user = await repos.users.create({ email: 'forgetful@example.com', role: 'analyst' });
    const noFlag = await agnes(['users', 'set-password', 'forgetful@example.com']);
    expect(noFlag.code).toBe(1);
    const set = await agnes(
      ['users', 'set-password', 'forgetful@example.com', '--password-stdin'],
      `${PASSWORD}\n`,
    );
    expect(set.code, set.stderr).toBe(0);
    const after = await repos.users.getById(user.id);
    expect(await verifyPassword(after!.password_hash!, PASSWORD)).toBe(true);
    expect(after?.sessions_valid_after).toEqual(expect.any(String));
  });
});

describe('agnes tokens', () => {
  it('creates a token printed once on stdout, with the requested expiry', async () => {
    const service = await repos.users.create({ email: 'bot@example.com', role: 'viewer', is_service: true });
    const before = Date.now();
    const created = await agnes([
      'tokens',
      'create',
      '--user',
      'bot@example.com',
      '--name',
      'telegram',
      '--expires-days',
      '10',
    ]);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^agnes_pat_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/shown only once/);
    expect(created.stderr).not.toContain(token);
    const [row] = await repos.tokens.listByUser(service.id);
    expect(row).toMatchObject({ name: 'telegram', token_hash: sha256Hex(token), prefix: token.slice(0, 14) });
    expect(Date.parse(row!.expires_at!)).toBeGreaterThanOrEqual(before + 10 * DAY_MS - 1000);
    expect(Date.parse(row!.expires_at!)).toBeLessThanOrEqual(Date.now() + 10 * DAY_MS);

    const tooLong = await agnes([
      'tokens',
      'create',
      '--user',
      'bot@example.com',
      '--name',
      'x',
      '--expires-days',
      '366',
    ]);
    expect(tooLong.code).toBe(1);
    expect(tooLong.stderr).toMatch(/expiry must be 1–365 days/);
  });

  it('lists prefixes only and revokes by id', async () => {
    const user = await repos.users.create({ email: 'svc@example.com', is_service: true });
    const pat = generatePat();
    const row = await repos.tokens.create({
      user_id: user.id,
      name: 'scheduler',
      token_hash: pat.hash,
      prefix: pat.prefix,
      expires_at: new Date(Date.now() + DAY_MS).toISOString(),
    });
    const list = await agnes(['tokens', 'list', '--user', 'svc@example.com']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(row.id);
    expect(list.stdout).toContain(pat.prefix);
    expect(list.stdout).toMatch(/\tactive\t/);
    expect(list.stdout).not.toContain(pat.token);
    expect(list.stdout).not.toContain(pat.hash);
    const revoke = await agnes(['tokens', 'revoke', row.id]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect((await repos.tokens.getById(row.id))?.revoked_at).toEqual(expect.any(String));
  });

  it('fails cleanly for unknown users and token ids', async () => {
    const unknownUser = await agnes(['tokens', 'list', '--user', 'ghost@example.com']);
    expect(unknownUser.code).toBe(1);
    expect(unknownUser.stderr).toMatch(/no user with email ghost@example\.com/);
    const unknownToken = await agnes(['tokens', 'revoke', 'no-such-id']);
    expect(unknownToken.code).toBe(1);
    expect(unknownToken.stderr).toMatch(/no token with id/);
  });
});

import { describe, expect, it } from 'vitest';
import { daJson, runDa, useAdminCli } from '../support/cli.js';
import { call } from '../support/server.js';

describe('da admin', { timeout: 180_000 }, () => {
  const cli = useAdminCli();
  const da = (...args: string[]) => runDa(args, { env: cli.admin.env });
  const json = (...args: string[]) => daJson(cli.admin, ...args);

  it('refuses an analyst with exit 4 and one line, for every admin group', async () => {
    for (const args of [
      ['admin', 'users', 'list'],
      ['admin', 'groups', 'list'],
      ['admin', 'tables', 'list'],
      ['admin', 'permissions', 'list'],
      ['admin', 'access-requests', 'list'],
      ['admin', 'rebuild'],
    ]) {
      const result = await runDa(args, { env: cli.analyst.env });
      expect(result.code, args.join(' ')).toBe(4);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr).toMatch(/^error: /);
    }
    const doc = await runDa(['admin', 'users', 'list', '--json'], { env: cli.analyst.env });
    expect(doc.code).toBe(4);
    expect(JSON.parse(doc.stdout).error).toMatchObject({ status: 403 });
  });

  it('adds, lists, updates, invites and removes a user by email', async () => {
    const added = await json(
      'admin',
      'users',
      'add',
      'new.analyst@example.com',
      '--name',
      'New',
      '--no-invite',
    );
    expect(added).toMatchObject({ email: 'new.analyst@example.com', role: 'analyst', invite_sent: false });
    expect(added.setup_url).toBeUndefined();
    const { users } = await json('admin', 'users', 'list');
    expect(users.map((u: { email: string }) => u.email)).toContain('new.analyst@example.com');

    const updated = await json(
      'admin',
      'users',
      'update',
      'new.analyst@example.com',
      '--role',
      'viewer',
      '--active',
      'false',
    );
    expect(updated).toMatchObject({ id: added.id, role: 'viewer', active: false });
    const text = await da('admin', 'users', 'update', added.id, '--active', 'true');
    expect(text.stdout).toBe('Updated new.analyst@example.com: role viewer, active\n');

    const invite = await json('admin', 'users', 'invite', 'new.analyst@example.com');
    expect(invite).toMatchObject({ user_id: added.id, invite_sent: false });
    expect(invite.setup_url).toMatch(/^http/);

    expect((await da('admin', 'users', 'remove', 'new.analyst@example.com')).code).toBe(0);
    const missing = await da('admin', 'users', 'remove', 'new.analyst@example.com');
    expect(missing.code).toBe(5);
    expect(missing.stderr).toBe(
      'error: no user with email new.analyst@example.com; list them with: da admin users list\n',
    );
    expect((await da('admin', 'users', 'update', added.id)).code).toBe(2);
  });

  it('grants, lists, checks and revokes user permissions', async () => {
    const email = cli.fixture.analyst.email;
    const before = await json('admin', 'permissions', 'check', '--user', email, '--table', 'refunds');
    expect(before).toMatchObject({ allowed: false, reason: 'no_grant' });
    const grant = await json('admin', 'permissions', 'grant', '--user', email, '--dataset', 'refunds');
    expect(grant).toMatchObject({ user_id: cli.fixture.analyst.id, dataset: 'refunds', access: 'read' });
    const mine = await json('admin', 'permissions', 'list', '--user', email);
    expect(mine.readable_tables).toContain('refunds');
    const all = await json('admin', 'permissions', 'list');
    expect(all.permissions.map((p: { dataset: string }) => p.dataset)).toContain('refunds');
    expect(await json('admin', 'permissions', 'check', '--user', email, '--table', 'refunds')).toMatchObject({
      allowed: true,
      reason: 'user_grant',
    });
    expect(await json('admin', 'permissions', 'revoke', '--user', email, '--dataset', 'refunds')).toEqual({
      revoked: true,
    });
    const again = await da('admin', 'permissions', 'revoke', '--user', email, '--dataset', 'refunds');
    expect(again.stdout).toBe(`${email} had no grant on refunds\n`);
    expect((await da('admin', 'permissions', 'grant', '--user', email)).code).toBe(2);
  });

  it('creates a group, manages members and grants by name, and deletes it', async () => {
    const group = await json('admin', 'groups', 'create', 'finance', '--description', 'Finance team');
    expect(group).toMatchObject({ name: 'finance' });
    expect((await da('admin', 'groups', 'add-member', 'Finance', cli.fixture.analyst.email)).stdout).toBe(
      `Added ${cli.fixture.analyst.email} to Finance\n`,
    );
    expect((await da('admin', 'groups', 'grant', 'finance', 'hr.*')).code).toBe(0);
    const check = await json(
      'admin',
      'permissions',
      'check',
      '--user',
      cli.fixture.analyst.email,
      '--table',
      'salaries',
    );
    expect(check).toMatchObject({ allowed: true, reason: 'bucket_grant' });
    const listed = await json('admin', 'groups', 'list');
    expect(listed.groups.find((g: { name: string }) => g.name === 'finance')).toMatchObject({
      member_count: 1,
      permission_count: 1,
    });
    expect((await da('admin', 'groups', 'revoke', 'finance', 'hr.*')).code).toBe(0);
    expect((await da('admin', 'groups', 'remove-member', group.id, cli.fixture.analyst.id)).code).toBe(0);
    expect((await da('admin', 'groups', 'delete', 'finance')).code).toBe(0);
    const gone = await da('admin', 'groups', 'delete', 'finance');
    expect(gone.code).toBe(5);
    expect(gone.stderr).toBe('error: no group finance; list them with: da admin groups list\n');
  });

  it('registers (idempotently), updates, lists and unregisters tables; discovers and registers what a source offers', async () => {
    const registered = await da(
      'admin',
      'tables',
      'register',
      'Scratch',
      '--source',
      'shop',
      '--id',
      'scratch',
    );
    expect(registered.stdout).toBe('Registered scratch\n');
    const again = await da('admin', 'tables', 'register', 'Scratch', '--source', 'shop', '--id', 'scratch');
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('Already exists: scratch\n');
    const updated = await json('admin', 'tables', 'update', 'scratch', '--description', 'Temp', '--public');
    expect(updated).toEqual({ id: 'scratch', updated: expect.arrayContaining(['description', 'is_public']) });
    const { tables } = await json('admin', 'tables', 'list');
    expect(tables.find((t: { id: string }) => t.id === 'scratch')).toMatchObject({
      description: 'Temp',
      is_public: true,
    });
    expect((await da('admin', 'tables', 'unregister', 'scratch')).code).toBe(0);
    expect((await da('admin', 'tables', 'unregister', 'scratch')).code).toBe(5);
    expect((await da('admin', 'tables', 'register', 'Scratch')).code).toBe(2);

    const discovered = await json('admin', 'tables', 'discover', '--source', 'shop');
    const unregistered = discovered.tables.filter((t: { registered: boolean }) => !t.registered);
    expect(unregistered.map((t: { suggested_id: string }) => t.suggested_id)).toEqual(['scratch']);
    expect(discovered.registered).toEqual([]);
    const dry = await da('admin', 'tables', 'discover', '--source', 'shop', '--register', '--dry-run');
    expect(dry.stdout).toContain('Would register: scratch\n');
    expect(await json('admin', 'tables', 'discover', '--source', 'shop', '--register')).toMatchObject({
      registered: ['scratch'],
    });
    const { tables: after } = await json('admin', 'tables', 'list', '--source', 'shop');
    expect(after.map((t: { id: string }) => t.id)).toContain('scratch');
    expect((await da('admin', 'tables', 'discover', '--source', 'nowhere')).code).toBe(5);
  });

  it('lists, approves and denies access requests', async () => {
    const auth = cli.fixture.analyst.auth;
    const first = await call(cli.fixture.server, 'POST', '/api/access-requests', {
      auth,
      body: { table_id: 'refunds' },
    });
    const second = await call(cli.fixture.server, 'POST', '/api/access-requests', {
      auth,
      body: { table_id: 'salaries' },
    });
    expect([first.status, second.status]).toEqual([201, 201]);
    const { requests } = await json('admin', 'access-requests', 'list');
    expect(requests.map((r: { id: string }) => r.id)).toEqual(
      expect.arrayContaining([first.body.id, second.body.id]),
    );
    expect((await da('admin', 'access-requests', 'approve', first.body.id, '--note', 'ok')).stdout).toBe(
      `Request ${first.body.id} approved\n`,
    );
    expect(await json('admin', 'access-requests', 'deny', second.body.id)).toEqual({
      status: 'denied',
      id: second.body.id,
    });
    const twice = await da('admin', 'access-requests', 'deny', second.body.id);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toMatch(/^error: /);
  });

  it('rebuilds and prints the report', async () => {
    const result = await da('admin', 'rebuild');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Rebuilt generation \d+: \d+ views/);
    expect(result.stdout).toContain('  shop: ok');
    expect((await da('admin', 'rebuild', '--source', 'nosuch')).code).toBe(5);
  });

  it('triggers sync jobs and reports an unknown table', async () => {
    const unknown = await da('admin', 'sync', '--table', 'nosuch', '--json');
    expect(unknown.code).toBe(1);
    expect(JSON.parse(unknown.stdout).error).toMatchObject({ code: 'unknown_tables', status: 422 });
    const triggered = await json('admin', 'sync', '--wait');
    expect(Array.isArray(triggered.jobs)).toBe(true);
  });
});

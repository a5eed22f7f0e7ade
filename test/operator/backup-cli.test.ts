import { cpSync, existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySnapshot } from '../../src/core/backup/verify.js';
import { openStateDb, type StateDb } from '../../src/core/state/db.js';
import { migrateToLatest } from '../../src/core/state/migrate.js';
import { createRepositories, type Repositories } from '../../src/core/state/repositories/index.js';
import { hashPassword } from '../../src/server/auth/passwords.js';
import { generatePat } from '../../src/server/auth/pat.js';
import { makeExtract, tempDir } from '../support/extracts.js';
import { killIfRunning, type RunResult, runAgnes } from '../support/processes.js';
import { type ServeProcess, serveApi, startServe } from '../support/serve-process.js';

/**
 * `agnes backup` and `agnes restore` as processes (13 §4–§5): a backup taken while the server
 * rebuilds and another process writes is consistent and restores into an empty DATA_DIR that
 * `agnes serve` serves as before; a tampered snapshot and an occupied target are refused.
 */

const JWT_SECRET = 'backup-test-secret-0123456789abcdef-0123456789';
const PASSWORD = 'Corr3ct-Horse-Backup-Battery';

let root: string;
let cleanup: () => Promise<void>;
let configDir: string;
const servers = new Set<ServeProcess>();
let admin: { email: string; pat: string };

function agnes(args: string[], dataDir: string): Promise<RunResult> {
  return runAgnes(args, {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      DATA_DIR: dataDir,
      CONFIG_DIR: configDir,
      JWT_SECRET_KEY: JWT_SECRET,
      LOG_LEVEL: 'warn',
    },
    killAfterMs: 60_000,
  });
}

async function serve(dataDir: string): Promise<ServeProcess> {
  return startServe({ cwd: root, dataDir, configDir, jwtSecret: JWT_SECRET, onSpawn: (s) => servers.add(s) });
}

async function withRepos<T>(
  dataDir: string,
  work: (repos: Repositories, db: StateDb) => Promise<T>,
): Promise<T> {
  const db = openStateDb(dataDir);
  try {
    return await work(createRepositories(db), db);
  } finally {
    await db.destroy();
  }
}

/** Users, grants and audit rows written in one transaction each: a torn snapshot would split them. */
async function writeLoop(dataDir: string, until: Promise<unknown>): Promise<number> {
  let stop = false;
  void until.finally(() => {
    stop = true;
  });
  return withRepos(dataDir, async (repos) => {
    let n = 0;
    while (!stop) {
      n += 1;
      await repos.transaction(async (r) => {
        const user = await r.users.create({ email: `loop-${n}@example.com` });
        await r.permissions.grantUser(user.id, { dataset: 'orders', access: 'read', granted_by: null });
        await r.audit.append({ action: 'loop.write', result: 'ok', user_id: user.id });
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return n;
  });
}

async function rebuildLoop(server: ServeProcess, until: Promise<unknown>): Promise<number> {
  let stop = false;
  void until.finally(() => {
    stop = true;
  });
  let n = 0;
  while (!stop) {
    const response = await serveApi(server, 'POST', '/api/admin/rebuild', { auth: `Bearer ${admin.pat}` });
    if (response.status === 200) n += 1;
  }
  return n;
}

beforeAll(async () => {
  ({ path: root, cleanup } = await tempDir('agnes-backup-cli-'));
  configDir = join(root, 'config');
  await mkdir(configDir);
  await writeFile(join(configDir, 'instance.yaml'), 'server:\n  log_level: warn\n');
});

afterAll(async () => {
  for (const server of servers) await killIfRunning(server);
  await cleanup();
});

describe('agnes backup and agnes restore', () => {
  const source = () => join(root, 'source');
  const restored = () => join(root, 'restored');
  const snapshot = () => join(root, 'snap');

  it('backs up while the server rebuilds and another process writes; the snapshot restores and serves', async () => {
    await makeExtract(join(source(), 'extracts'), 'shop', [
      { name: 'orders', rows: 40 },
      { name: 'events', rows: 30, shards: 3 },
    ]);
    admin = await withRepos(source(), async (repos, db) => {
      await migrateToLatest(db);
      const user = await repos.users.create({
        email: 'root@example.com',
        role: 'admin',
        password_hash: await hashPassword(PASSWORD),
      });
      const pat = generatePat();
      await repos.tokens.create({
        user_id: user.id,
        name: 'ops',
        token_hash: pat.hash,
        prefix: pat.prefix,
        expires_at: null,
      });
      await repos.registry.register({ id: 'orders', name: 'Orders', source: 'shop', source_type: 'local' });
      return { email: user.email, pat: pat.token };
    });
    const server = await serve(source());

    let done!: () => void;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    const writes = writeLoop(source(), finished);
    const rebuilds = rebuildLoop(server, finished);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const backup = await agnes(['backup', '--out', snapshot(), '--include-extracts'], source());
    done();
    const [written, rebuilt] = await Promise.all([writes, rebuilds]);
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(/^wrote .*snap: schema version \d+/);
    expect(written).toBeGreaterThan(2);
    expect(rebuilt).toBeGreaterThan(0);

    const manifest = await verifySnapshot(snapshot());
    const lines = async (table: string) =>
      (await readFile(join(snapshot(), 'state', `${table}.ndjson`), 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const users = await lines('users');
    const loopUsers = users.filter((u) => String(u.email).startsWith('loop-')).length;
    expect(users.length).toBe(manifest.tables.users!.rows);
    expect(loopUsers).toBeGreaterThan(0);
    expect((await lines('dataset_permissions')).length).toBe(loopUsers);
    expect((await lines('audit_log')).filter((a) => a.action === 'loop.write').length).toBe(loopUsers);

    const restore = await agnes(['restore', '--from', snapshot()], restored());
    expect(restore.code, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/restored .* generation \d+, \d+ views/);
    expect(existsSync(join(restored(), 'analytics', 'server.duckdb'))).toBe(true);
    await killIfRunning(server);

    const again = await serve(restored());
    const login = await serveApi(again, 'POST', '/auth/token', {
      body: { email: admin.email, password: PASSWORD },
    });
    expect(login.status).toBe(200);
    const me = await serveApi(again, 'GET', '/auth/me', { auth: `Bearer ${admin.pat}` });
    expect(me.body).toMatchObject({ email: admin.email, role: 'admin' });
    const count = await serveApi(again, 'POST', '/api/query', {
      auth: `Bearer ${admin.pat}`,
      body: { sql: 'SELECT (SELECT count(*) FROM orders) AS o, (SELECT count(*) FROM events) AS e' },
    });
    expect(count.status).toBe(200);
    expect(count.body.rows).toEqual([[40, 90]]);
    await killIfRunning(again);
    const restoredUsers = await withRepos(restored(), (repos) => repos.users.count());
    expect(restoredUsers).toBe(users.length);
  });

  it('refuses a snapshot with one changed byte and creates nothing in the target', async () => {
    const tampered = join(root, 'tampered');
    cpSync(snapshot(), tampered, { recursive: true });
    const path = join(tampered, 'state', 'users.ndjson');
    const bytes = await readFile(path);
    bytes[5] = bytes[5]! ^ 1;
    await writeFile(path, bytes);
    const target = join(root, 'never');
    const refused = await agnes(['restore', '--from', tampered], target);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('state/users.ndjson: checksum differs from manifest.json');
    expect(existsSync(target)).toBe(false);
  });

  it('refuses a target with users unless --force, which replaces it; secrets come back 0600', async () => {
    const before = (await stat(join(restored(), 'analytics', 'server.duckdb'))).mtimeMs;
    const refused = await agnes(['restore', '--from', snapshot()], restored());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('--force');
    expect((await stat(join(restored(), 'analytics', 'server.duckdb'))).mtimeMs).toBe(before);

    await writeFile(join(source(), 'state', 'jwt-secret'), 'x'.repeat(48), { mode: 0o600 });
    const withSecret = join(root, 'snap-secret');
    expect((await agnes(['backup', '--out', withSecret], source())).code).toBe(0);
    const running = await serve(restored());
    const busy = await agnes(['restore', '--from', withSecret, '--force'], restored());
    await killIfRunning(running);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/open in another process; stop agnes serve/);
    expect(existsSync(join(restored(), 'state', 'jwt-secret'))).toBe(false);
    const forced = await agnes(['restore', '--from', withSecret, '--force'], restored());
    expect(forced.code, forced.stderr).toBe(0);
    expect((await stat(join(restored(), 'state', 'jwt-secret'))).mode & 0o777).toBe(0o600);
    // Without --include-extracts the snapshot has none, and --force replaces the target's with none.
    expect(existsSync(join(restored(), 'extracts', 'shop'))).toBe(false);
  });
});

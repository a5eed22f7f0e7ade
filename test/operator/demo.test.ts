import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDuck, queryRows } from '../../src/core/duckdb/engine.js';
import { quoteIdent, quoteLiteral } from '../../src/core/duckdb/sql.js';
import { openStateDb, type StateDb } from '../../src/core/state/db.js';
import { tempDir } from '../support/extracts.js';
import { freePort } from '../support/ports.js';
import { type ChildRun, hostEnv, spawnAgnes, within } from '../support/processes.js';

/**
 * `agnes demo` end to end (01 §6, 07 §2.4, README flow 1): sample data generated, extracted,
 * registered, published and profiled; logins printed and kept 0600; a restart reuses everything;
 * `--reset` starts over; SIGTERM during the startup sync shuts down cleanly (R16).
 */

const DEMO_TABLES = [
  'campaigns',
  'customers',
  'order_items',
  'orders',
  'payments',
  'products',
  'support_tickets',
  'web_leads',
  'web_sessions',
];

/** Base row counts of size xs (07 §2.2); order_items and payments are derived. */
const XS_BASE_ROWS = {
  customers: 50,
  products: 30,
  campaigns: 10,
  web_sessions: 500,
  web_leads: 50,
  orders: 100,
  support_tickets: 30,
};

/** 07 §2.4 demo registration. */
const REGISTRATION = {
  customers: { bucket: 'sales', is_public: false },
  orders: { bucket: 'sales', is_public: false },
  order_items: { bucket: 'sales', is_public: false },
  products: { bucket: 'sales', is_public: true },
  payments: { bucket: 'sales', is_public: false },
  campaigns: { bucket: 'marketing', is_public: false },
  web_sessions: { bucket: 'marketing', is_public: false },
  web_leads: { bucket: 'marketing', is_public: false },
  support_tickets: { bucket: 'support', is_public: false },
};

const ADMIN = 'admin@demo.agnes.local';
const ANALYST = 'analyst@demo.agnes.local';

interface Started {
  demo: ChildRun;
  url: string;
  logins: Record<string, string>;
}

let root: string;
let demoDir: string;
let configDir: string;
let cleanup: () => Promise<void>;
const demos = new Set<ChildRun>();

function spawnDemo(port: number, options: { reset?: boolean; logLevel?: string } = {}): ChildRun {
  // No JWT_SECRET_KEY and no DATA_DIR: the demo generates its secret inside --data-dir.
  const env = hostEnv({ CONFIG_DIR: configDir, LOG_LEVEL: options.logLevel ?? 'warn' });
  const args = ['demo', '--size', 'xs', '--port', String(port), '--data-dir', demoDir];
  if (options.reset) args.push('--reset');
  const demo = spawnAgnes(args, { cwd: root, env });
  demos.add(demo);
  return demo;
}

/** Starts the demo and waits for its banner; returns the URL and the printed logins. */
async function startDemo(options: { reset?: boolean } = {}): Promise<Started> {
  const port = await freePort();
  const demo = spawnDemo(port, options);
  const banner = await demo.waitForOutput(
    'stdout',
    /Agnes demo is running at (http:\/\/\S+)\n[\s\S]*?mode 0600/,
    25_000,
  );
  const url = banner[1]!;
  expect(url).toBe(`http://localhost:${port}`);
  const logins: Record<string, string> = {};
  for (const [, role, email, password] of demo.stdout.matchAll(/^ {4}(admin|analyst) +(\S+@\S+) +(\S+)$/gm)) {
    logins[`${role} ${email}`] = password!;
  }
  expect(Object.keys(logins).sort()).toEqual([`admin ${ADMIN}`, `analyst ${ANALYST}`]);
  return { demo, url, logins };
}

async function stopDemo(demo: ChildRun): Promise<void> {
  demo.child.kill('SIGTERM');
  expect(await within(demo.exited, 25_000, 'exit after SIGTERM'), demo.stderr).toEqual({
    code: 0,
    signal: null,
  });
}

const password = (logins: Record<string, string>, email: string) =>
  Object.entries(logins).find(([key]) => key.endsWith(` ${email}`))![1];

const mode = async (path: string) => (await stat(path)).mode & 0o777;

async function withState<T>(body: (db: StateDb) => Promise<T>): Promise<T> {
  const db = openStateDb(demoDir);
  try {
    return await body(db);
  } finally {
    await db.destroy();
  }
}

const manifestPath = () => join(demoDir, 'sources', 'sample', '_manifest.json');

async function readManifest(): Promise<{ size: string; tables: Record<string, number> }> {
  return JSON.parse(await readFile(manifestPath(), 'utf8')) as {
    size: string;
    tables: Record<string, number>;
  };
}

/** Every view of the published file, queried after attaching the extract READ_ONLY as `sample`. */
async function publishedCounts(): Promise<Record<string, number>> {
  const reader = await openDuck(join(demoDir, 'analytics', 'server.duckdb'), { readOnly: true });
  try {
    const extract = join(demoDir, 'extracts', 'sample', 'extract.duckdb');
    await reader.conn.run(`ATTACH ${quoteLiteral(extract)} AS sample (READ_ONLY)`);
    const views = await queryRows<{ view_name: string }>(
      reader.conn,
      `SELECT view_name FROM duckdb_views()
       WHERE database_name = current_database() AND schema_name = 'main' AND NOT internal ORDER BY view_name`,
    );
    const counts: Record<string, number> = {};
    for (const { view_name } of views) {
      const [row] = await queryRows<{ n: bigint }>(
        reader.conn,
        `SELECT count(*) AS n FROM main.${quoteIdent(view_name)}`,
      );
      counts[view_name] = Number(row?.n);
    }
    return counts;
  } finally {
    reader.close();
  }
}

async function expectedHealth(): Promise<'healthy' | 'degraded'> {
  const disk = await statfs(demoDir);
  return disk.blocks > 0 && disk.bavail / disk.blocks < 0.05 ? 'degraded' : 'healthy';
}

beforeEach(async () => {
  const dir = await tempDir('agnes-demo-');
  root = dir.path;
  cleanup = dir.cleanup;
  demoDir = join(root, 'demo-data');
  configDir = join(root, 'config');
  await mkdir(configDir);
});

afterEach(async () => {
  for (const demo of demos) {
    if (demo.child.exitCode === null && demo.child.signalCode === null) {
      // SIGTERM first, so a demo left mid-sync also stops its extractor child; SIGKILL if it hangs.
      demo.child.kill('SIGTERM');
      const timer = setTimeout(() => demo.child.kill('SIGKILL'), 10_000);
      await demo.exited.finally(() => clearTimeout(timer));
    }
    await demo.exited;
  }
  demos.clear();
  await cleanup();
});

describe('agnes demo', () => {
  it('generates, registers, publishes and profiles the sample data, prints the logins and serves', async () => {
    const { demo, url, logins } = await startDemo();
    expect(demo.stdout).toContain('Generating the sample data set (size xs)');
    const adminPassword = password(logins, ADMIN);
    const analystPassword = password(logins, ANALYST);
    expect(adminPassword).not.toBe(analystPassword);

    // Logins and the generated JWT secret are kept private (0600).
    const credentials = join(demoDir, 'state', 'demo-credentials.txt');
    expect(await mode(credentials)).toBe(0o600);
    const stored = await readFile(credentials, 'utf8');
    expect(stored).toContain(`${ADMIN} ${adminPassword}\n`);
    expect(stored).toContain(`${ANALYST} ${analystPassword}\n`);
    const secretFile = join(demoDir, 'state', 'jwt-secret');
    expect(await mode(secretFile)).toBe(0o600);
    expect((await readFile(secretFile, 'utf8')).trim().length).toBeGreaterThanOrEqual(32);

    // Size xs, and one view per demo table with the manifest's row counts.
    const manifest = await readManifest();
    expect(manifest.size).toBe('xs');
    expect(Object.keys(manifest.tables).sort()).toEqual(DEMO_TABLES);
    expect(manifest.tables).toMatchObject(XS_BASE_ROWS);
    expect(await publishedCounts()).toEqual(manifest.tables);

    // Registration, group grants, profiles and users, read while the server runs (SQLite WAL).
    await withState(async (db) => {
      const registry = await db
        .selectFrom('table_registry')
        .select(['id', 'bucket', 'is_public', 'source'])
        .orderBy('id')
        .execute();
      expect(
        Object.fromEntries(registry.map((r) => [r.id, { bucket: r.bucket, is_public: r.is_public }])),
      ).toEqual(REGISTRATION);
      expect(new Set(registry.map((r) => r.source))).toEqual(new Set(['sample']));

      const users = await db.selectFrom('users').select(['id', 'email', 'role', 'password_hash']).execute();
      expect(users.map((u) => `${u.role} ${u.email}`).sort()).toEqual([
        `admin ${ADMIN}`,
        `analyst ${ANALYST}`,
      ]);
      for (const user of users) {
        expect(user.password_hash).toMatch(/^\$argon2id\$/);
        expect(user.password_hash).not.toContain(adminPassword);
        expect(user.password_hash).not.toContain(analystPassword);
      }
      const analyst = users.find((u) => u.email === ANALYST)!;

      const groups = await db.selectFrom('groups').select(['id', 'name']).execute();
      expect(groups.map((g) => g.name)).toEqual(['Analysts']);
      const members = await db.selectFrom('group_members').select(['group_id', 'user_id']).execute();
      expect(members).toEqual([{ group_id: groups[0]!.id, user_id: analyst.id }]);
      const grants = await db
        .selectFrom('group_permissions')
        .select(['group_id', 'dataset', 'access'])
        .orderBy('dataset')
        .execute();
      expect(grants).toEqual(
        ['customers', 'marketing.*', 'order_items', 'orders'].map((dataset) => ({
          group_id: groups[0]!.id,
          dataset,
          access: 'read',
        })),
      );
      expect(await db.selectFrom('dataset_permissions').selectAll().execute()).toEqual([]);

      const profiles = await db.selectFrom('table_profiles').select('table_id').orderBy('table_id').execute();
      expect(profiles.map((p) => p.table_id)).toEqual(DEMO_TABLES);
      const jobs = await db.selectFrom('sync_jobs').select(['kind', 'source', 'status']).execute();
      expect(jobs).toEqual([{ kind: 'sync', source: 'sample', status: 'succeeded' }]);
    });

    const health = await fetch(`${url}/api/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string };
    expect(body.status).toBe(await expectedHealth());

    await stopDemo(demo);
  });

  it('a second start reuses the data and the logins, without regenerating', async () => {
    const first = await startDemo();
    await stopDemo(first.demo);
    const manifestMtime = (await stat(manifestPath())).mtimeMs;
    const secret = await readFile(join(demoDir, 'state', 'jwt-secret'), 'utf8');
    const hashes = await withState((db) =>
      db.selectFrom('users').select(['email', 'password_hash']).orderBy('email').execute(),
    );

    const second = await startDemo();
    expect(second.demo.stdout).not.toContain('Generating the sample data set');
    expect(second.logins).toEqual(first.logins);
    expect((await stat(manifestPath())).mtimeMs).toBe(manifestMtime);
    expect(await readFile(join(demoDir, 'state', 'jwt-secret'), 'utf8')).toBe(secret);
    expect(await mode(join(demoDir, 'state', 'demo-credentials.txt'))).toBe(0o600);
    expect((await fetch(`${second.url}/api/health`)).status).toBe(200);
    await withState(async (db) => {
      // Same users with the same hashes: nothing was re-created or re-hashed.
      expect(
        await db.selectFrom('users').select(['email', 'password_hash']).orderBy('email').execute(),
      ).toEqual(hashes);
      expect(await db.selectFrom('table_registry').select('id').execute()).toHaveLength(DEMO_TABLES.length);
      expect(await db.selectFrom('group_permissions').select('dataset').execute()).toHaveLength(4);
      const jobs = await db.selectFrom('sync_jobs').select('status').execute();
      expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded']);
    });
    expect(await publishedCounts()).toEqual((await readManifest()).tables);
    await stopDemo(second.demo);
  });

  it('--reset wipes the data directory and starts over with new logins', async () => {
    const first = await startDemo();
    await stopDemo(first.demo);
    const secret = await readFile(join(demoDir, 'state', 'jwt-secret'), 'utf8');
    await writeFile(join(demoDir, 'left-behind.txt'), 'from the previous demo');

    const reset = await startDemo({ reset: true });
    expect(reset.demo.stdout).toContain('Generating the sample data set (size xs)');
    expect(existsSync(join(demoDir, 'left-behind.txt'))).toBe(false);
    expect(password(reset.logins, ADMIN)).not.toBe(password(first.logins, ADMIN));
    expect(password(reset.logins, ANALYST)).not.toBe(password(first.logins, ANALYST));
    expect(await readFile(join(demoDir, 'state', 'jwt-secret'), 'utf8')).not.toBe(secret);
    const stored = await readFile(join(demoDir, 'state', 'demo-credentials.txt'), 'utf8');
    expect(stored).toContain(`${ADMIN} ${password(reset.logins, ADMIN)}\n`);
    await withState(async (db) => {
      const jobs = await db.selectFrom('sync_jobs').select('status').execute();
      expect(jobs.map((j) => j.status)).toEqual(['succeeded']);
    });
    expect(await publishedCounts()).toEqual((await readManifest()).tables);
    await stopDemo(reset.demo);
  });

  it('SIGTERM during the startup sync exits 0, marks the job interrupted and leaves no temp files (R16)', async () => {
    const demo = spawnDemo(await freePort(), { logLevel: 'info' });
    await demo.waitForOutput('stdout', /"msg":"sync job started"/, 25_000);
    const signalled = Date.now();
    demo.child.kill('SIGTERM');
    expect(await within(demo.exited, 25_000, 'exit after SIGTERM'), demo.stdout + demo.stderr).toEqual({
      code: 0,
      signal: null,
    });
    expect(Date.now() - signalled).toBeLessThan(25_000);
    expect(demo.stdout).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    expect(demo.stdout).not.toContain('Agnes demo is running');

    const jobs = await withState((db) =>
      db.selectFrom('sync_jobs').select(['kind', 'source', 'status', 'finished_at']).execute(),
    );
    expect(jobs).toHaveLength(1);
    const [job] = jobs;
    expect(job).toMatchObject({ kind: 'sync', source: 'sample' });
    // Interrupted by the shutdown, or finished if the job won the race; never left running.
    expect(['interrupted', 'succeeded']).toContain(job!.status);
    expect(job!.finished_at).not.toBeNull();

    const analytics = join(demoDir, 'analytics');
    const leftovers = existsSync(analytics)
      ? (await readdir(analytics)).filter((name) => /\.tmp-|\.wal$|^\.rebuild\.lock$/.test(name))
      : [];
    expect(leftovers).toEqual([]);
    // The state store was closed cleanly: SQLite removed its WAL.
    expect(existsSync(join(demoDir, 'state', 'system.sqlite-wal'))).toBe(false);
    // The logins were created before the sync; no log line carries them.
    const stored = await readFile(join(demoDir, 'state', 'demo-credentials.txt'), 'utf8');
    const passwords = [...stored.matchAll(/^\S+@\S+ (\S+)$/gm)].map((m) => m[1]!);
    expect(passwords).toHaveLength(2);
    const logLines = demo.stdout.split('\n').filter((line) => line.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(2);
    for (const secret of passwords) expect(demo.stdout + demo.stderr).not.toContain(secret);
  });
});

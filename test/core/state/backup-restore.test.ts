import { cpSync, existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { BackupError } from '../../../src/core/backup/manifest.js';
import { openStateDb, type PostgresStore, type StateDb } from '../../../src/core/state/db.js';
import { stateStoreInUse } from '../../../src/core/state/in-use.js';
import { createRepositories } from '../../../src/core/state/repositories/index.js';
import { EPHEMERAL_TABLES, STATE_TABLES } from '../../../src/core/state/tables.js';
import { backup, restore } from '../../../src/operator/commands/backup.js';
import { publishShop } from '../../server/api/sync-fixtures.js';
import { tempDir } from '../../support/extracts.js';
import { expectServesTheSnapshot } from '../../support/restored.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import {
  openTestDatabase,
  skipWithoutPostgres,
  TEST_DIALECT,
  type TestDatabase,
} from './repositories/fresh-store.js';

/**
 * `agnes backup` and `agnes restore` across state stores (13 §4): a SQLite snapshot restores into an
 * empty store of this project's dialect and serves the same data, a snapshot of this dialect's store
 * taken while it is written restores into SQLite, and a refused restore leaves the target as it was.
 * On PostgreSQL this is the supported move between stores.
 */

let root: string;
let cleanup: () => Promise<void>;
let configPath: string;
let source: TestServer;
let admin: TestUser;
let reader: TestUser;
let snapshot: string;
/** The users of the snapshot: the admin, the reader and the loop's writes it caught. */
let snapshotEmails: string[];
const targets: Target[] = [];

/** A state store `agnes restore` writes into: a DATA_DIR, and on PostgreSQL its own database. */
interface Target {
  dataDir: string;
  postgres: PostgresStore | undefined;
  remove(): Promise<void>;
}

/** An empty store of this project's dialect; nothing holds a connection to it. */
async function emptyTarget(name: string): Promise<Target> {
  let target: Target;
  if (TEST_DIALECT === 'sqlite') {
    const dataDir = join(root, name);
    target = { dataDir, postgres: undefined, remove: () => rm(dataDir, { recursive: true, force: true }) };
  } else {
    // The pool connects only when asked, so the test database's own handle holds no session.
    const database: TestDatabase = await openTestDatabase({ migrated: false });
    target = { dataDir: database.dataDir, postgres: database.postgres, remove: () => database.remove() };
  }
  targets.push(target);
  return target;
}

function targetEnv(target: Target): Record<string, string> {
  return { DATA_DIR: target.dataDir, ...(target.postgres ? { DATABASE_URL: target.postgres.url } : {}) };
}

async function withStore<T>(target: Target, work: (db: StateDb) => Promise<T>): Promise<T> {
  const db = openStateDb(target.dataDir, target.postgres);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

/** Runs an `agnes` command in-process with the environment the operator would set. */
async function agnes<T>(env: Record<string, string>, command: () => Promise<T>): Promise<T> {
  const keys = ['DATA_DIR', 'DATABASE_URL', 'AGNES_CONFIG'];
  const saved = keys.map((key) => [key, process.env[key]] as const);
  const quiet = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  for (const key of keys) delete process.env[key];
  Object.assign(process.env, { AGNES_CONFIG: configPath, ...env });
  try {
    return await command();
  } finally {
    quiet.mockRestore();
    for (const [key, value] of saved)
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
  }
}

/**
 * `agnes restore --from DIR [--force]` into the target, once the sessions this test closed have
 * ended: PostgreSQL ends a server process just after its client disconnects, and restore refuses a
 * store another session has open.
 */
async function restoreInto(target: Target, from: string, force = false): Promise<number> {
  await expect.poll(() => stateStoreInUse(target.dataDir, target.postgres)).toBe(false);
  return agnes(targetEnv(target), () => restore({ from, force }));
}

async function emails(db: StateDb): Promise<string[]> {
  return (await db.selectFrom('users').select('email').execute()).map((u) => u.email).sort();
}

async function tableNames(db: StateDb): Promise<string[]> {
  return (await db.introspection.getTables({ withInternalKyselyTables: true })).map((t) => t.name);
}

beforeAll(async () => {
  ({ path: root, cleanup } = await tempDir('agnes-backup-store-'));
  configPath = join(root, 'instance.yaml');
  await writeFile(configPath, 'server:\n  log_level: warn\n');
  await mkdir(join(root, 'source'));
  // The source is SQLite whatever the project: the move is SQLite → this project's dialect.
  source = await withServer({ dataDir: join(root, 'source') });
  await publishShop(source.ctx, source.dataDir);
  admin = await createUser(source.ctx, 'admin');
  reader = await createUser(source.ctx, 'analyst');
  await source.ctx.repos.permissions.grantUser(reader.id, {
    dataset: 'orders',
    access: 'read',
    granted_by: admin.id,
  });
  const item = await call(source, 'POST', '/api/memory', {
    auth: reader.auth,
    body: { title: 'Fiscal year', content: 'Starts in April.', category: 'workflow' },
  });
  expect(item.status).toBe(201);
  snapshot = join(root, 'snap');
  // Taken during a loop of rebuilds and writes (13 §5): each write is a user with a grant.
  let looping = true;
  const rebuilds = (async () => {
    let n = 0;
    for (; looping; n += 1) await source.ctx.orchestrator.rebuild();
    return n;
  })();
  const writes = (async () => {
    let n = 0;
    for (; looping; n += 1) {
      await source.ctx.repos.transaction(async (repos) => {
        const user = await repos.users.create({ email: `loop-${n}@example.com` });
        await repos.permissions.grantUser(user.id, { dataset: 'orders', access: 'read', granted_by: null });
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    return n;
  })();
  await new Promise((resolve) => setTimeout(resolve, 200));
  try {
    await agnes({ DATA_DIR: source.dataDir }, () => backup({ out: snapshot, includeExtracts: true }));
  } finally {
    looping = false;
  }
  expect(await rebuilds).toBeGreaterThan(0);
  expect(await writes).toBeGreaterThan(0);
  snapshotEmails = (await readFile(join(snapshot, 'state', 'users.ndjson'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => String(JSON.parse(line).email))
    .sort();
});

afterAll(async () => {
  await source?.close();
  for (const target of targets) await target.remove();
  await cleanup?.();
});

describe(`agnes backup and restore with the state on ${TEST_DIALECT}`, () => {
  beforeEach((context) => skipWithoutPostgres(context));

  it(`restores a SQLite snapshot into an empty ${TEST_DIALECT} store that serves the same data`, async () => {
    const target = await emptyTarget('moved');
    expect(await restoreInto(target, snapshot)).toBe(0);
    expect(existsSync(join(target.dataDir, 'analytics', 'server.duckdb'))).toBe(true);
    await withStore(target, async (db) => {
      const restored = await emails(db);
      expect(restored).toEqual(snapshotEmails);
      expect(restored).toEqual(expect.arrayContaining([admin.email, reader.email]));
      expect(restored.some((email) => email.startsWith('loop-'))).toBe(true);
      // Every user the loop wrote came with its grant, or neither is in the snapshot.
      const granted = await db
        .selectFrom('dataset_permissions')
        .innerJoin('users', 'users.id', 'dataset_permissions.user_id')
        .select('users.email')
        .where('users.email', 'like', 'loop-%')
        .execute();
      expect(granted.map((g) => g.email).sort()).toEqual(restored.filter((e) => e.startsWith('loop-')));
    });

    const restored = await withServer({
      dataDir: target.dataDir,
      env: target.postgres ? { DATABASE_URL: target.postgres.url } : {},
    });
    try {
      await expectServesTheSnapshot(restored, { admin, reader });
      const health = await call(restored, 'GET', '/api/health/detailed', { auth: admin.auth });
      expect(health.body.services.state_store).toEqual({ dialect: TEST_DIALECT });
    } finally {
      await restored.close();
    }
  });

  it(`backs up a ${TEST_DIALECT} store from one snapshot while it is written, and restores it into SQLite`, async () => {
    const database = await openTestDatabase({ migrated: true });
    targets.push({ dataDir: database.dataDir, postgres: database.postgres, remove: () => database.remove() });
    const { db } = database;
    // Each write adds a user and its audit entry together; users are dumped long before audit_log,
    // so a dump that saw later writes in later tables would hold entries of users it lacks.
    const write = (n: number) =>
      db.transaction().execute(async (trx) => {
        const repos = createRepositories(trx);
        const user = await repos.users.create({ email: `writer-${n}@example.com` });
        await repos.audit.append({ action: 'user.create', result: 'ok', user_id: user.id });
      });
    for (let n = 0; n < 20; n += 1) await write(n);
    let writing = true;
    let written = 20;
    const writer = (async () => {
      while (writing) {
        await write(written++);
        // better-sqlite3 answers synchronously: without a turn of the event loop, the backup
        // in this process would never run.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const out = join(root, `snap-${TEST_DIALECT}`);
    try {
      await agnes(
        { DATA_DIR: database.dataDir, ...(database.postgres ? { DATABASE_URL: database.postgres.url } : {}) },
        () => backup({ out, includeExtracts: false }),
      );
    } finally {
      writing = false;
      await writer;
    }
    const startedWith = 20;
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.dialect).toBe(TEST_DIALECT);
    expect(written).toBeGreaterThan(startedWith);
    const users = manifest.tables.users.rows as number;
    expect(users).toBeGreaterThanOrEqual(startedWith);
    expect(manifest.tables.audit_log.rows).toBe(users);

    const target: Target = {
      dataDir: join(root, `from-${TEST_DIALECT}`),
      postgres: undefined,
      remove: async () => {},
    };
    expect(await restoreInto(target, out)).toBe(0);
    await withStore(target, async (db) => {
      const restored = await emails(db);
      expect(restored).toHaveLength(users);
      expect(restored).toEqual(Array.from({ length: users }, (_, n) => `writer-${n}@example.com`).sort());
      const audited = await db
        .selectFrom('audit_log')
        .innerJoin('users', 'users.id', 'audit_log.user_id')
        .select('users.email')
        .execute();
      expect(audited.map((a) => a.email).sort()).toEqual(restored);
    });
  });

  it(`refuses a snapshot with one changed byte and creates nothing in the ${TEST_DIALECT} target`, async () => {
    const tampered = join(root, 'tampered');
    cpSync(snapshot, tampered, { recursive: true });
    const path = join(tampered, 'state', 'users.ndjson');
    const bytes = await readFile(path);
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 1;
    await writeFile(path, bytes);
    const target = await emptyTarget('untouched');

    await expect(restoreInto(target, tampered)).rejects.toThrow('state/users.ndjson: checksum differs');
    expect(existsSync(join(target.dataDir, 'state'))).toBe(false);
    expect(existsSync(join(target.dataDir, 'extracts'))).toBe(false);
    if (target.postgres) await withStore(target, async (db) => expect(await tableNames(db)).toEqual([]));
  });

  it(`refuses a ${TEST_DIALECT} store that holds users unless --force, which replaces it`, async () => {
    const target = await emptyTarget('occupied');
    expect(await restoreInto(target, snapshot)).toBe(0);
    await withStore(target, (db) => createRepositories(db).users.create({ email: 'stranger@example.com' }));
    const before = await withStore(target, emails);

    const refused = restoreInto(target, snapshot);
    await expect(refused).rejects.toThrow(BackupError);
    await expect(refused).rejects.toThrow(/--force/);
    expect(await withStore(target, emails)).toEqual(before);

    // Restoring over the store twice drops and recreates everything the migrations made.
    expect(await restoreInto(target, snapshot, true)).toBe(0);
    await withStore(target, async (db) => {
      expect(await emails(db)).toEqual(snapshotEmails);
      const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
      expect(tables).toEqual([...STATE_TABLES, ...EPHEMERAL_TABLES].sort());
    });
  });
});

import { createHash } from 'node:crypto';
import { cpSync, existsSync } from 'node:fs';
import { appendFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupError, type Manifest } from '../../../src/core/backup/manifest.js';
import { refuseIncompatible, restoreSnapshot } from '../../../src/core/backup/restore.js';
import { writeSnapshot } from '../../../src/core/backup/snapshot.js';
import { verifySnapshot } from '../../../src/core/backup/verify.js';
import { openDuck, queryRows } from '../../../src/core/duckdb/engine.js';
import { openStateDb, type StateDb } from '../../../src/core/state/db.js';
import {
  latestSchemaVersion,
  migrateToLatest,
  migrateToVersion,
  schemaVersion,
} from '../../../src/core/state/migrate.js';
import { createRepositories } from '../../../src/core/state/repositories/index.js';
import { EPHEMERAL_TABLES, STATE_TABLES } from '../../../src/core/state/tables.js';
import { publishShop } from '../../server/api/sync-fixtures.js';
import { tempDir } from '../../support/extracts.js';
import { expectServesTheSnapshot } from '../../support/restored.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

/**
 * Backup and restore in-process (13 §4): a snapshot of a served instance restores into an empty
 * DATA_DIR that serves the same principals and data; any changed byte is refused before the target
 * is touched.
 */

const JWT_FILE = 'a-demo-jwt-secret-that-is-long-enough-0123456789';

let root: string;
let cleanup: () => Promise<void>;
let server: TestServer;
let admin: TestUser;
let reader: TestUser;
let snapshot: string;
let manifest: Manifest;

/** Every row of every state table, ordered, for comparing two stores. */
async function contents(db: StateDb): Promise<Record<string, unknown[]>> {
  const rows = db as unknown as Kysely<Record<string, Record<string, unknown>>>;
  const out: Record<string, unknown[]> = {};
  // Revision counters are bumped by the triggers while rows load; they only need to move.
  for (const table of STATE_TABLES.filter((t) => t !== 'state_revisions')) {
    const all = await rows.selectFrom(table).selectAll().execute();
    out[table] = all.map((r) => JSON.stringify(r)).sort();
  }
  return out;
}

async function withStore<T>(dataDir: string, work: (db: StateDb) => Promise<T>): Promise<T> {
  const db = openStateDb(dataDir);
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}

async function restoreInto(dataDir: string, from: string, force = false): Promise<void> {
  const verified = await verifySnapshot(from);
  await withStore(dataDir, (db) => restoreSnapshot({ db, dataDir, from, manifest: verified, force }));
}

/** A copy of the snapshot to tamper with. */
function copyOf(name: string): string {
  const dir = join(root, name);
  cpSync(snapshot, dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  ({ path: root, cleanup } = await tempDir('agnes-backup-'));
  await mkdir(join(root, 'source'));
  server = await withServer({ dataDir: join(root, 'source') });
  await publishShop(server.ctx, server.dataDir);
  admin = await createUser(server.ctx, 'admin');
  reader = await createUser(server.ctx, 'analyst');
  await server.ctx.repos.permissions.grantUser(reader.id, {
    dataset: 'orders',
    access: 'read',
    granted_by: admin.id,
  });
  const item = await call(server, 'POST', '/api/memory', {
    auth: reader.auth,
    body: { title: 'Fiscal year', content: 'Starts in April.', category: 'workflow' },
  });
  expect(item.status).toBe(201);
  // A running replica's row: ephemeral, so the snapshot leaves it out (the manifest test below).
  await server.ctx.repos.replicas.heartbeat(server.ctx.replica);
  await writeFile(join(server.dataDir, 'state', 'jwt-secret'), `${JWT_FILE}\n`, { mode: 0o600 });
  await writeFile(join(server.dataDir, 'state', 'policy-salt'), 'salt\n', { mode: 0o600 });
  const configPath = join(root, 'instance.yaml');
  await writeFile(configPath, 'server:\n  log_level: warn\n');
  snapshot = join(root, 'snap');
  manifest = await withStore(server.dataDir, (db) =>
    writeSnapshot({
      db,
      dataDir: server.dataDir,
      out: snapshot,
      configPath,
      includeExtracts: true,
      agnesVersion: 'test',
    }),
  );
});

afterAll(async () => {
  await server?.close();
  await cleanup();
});

describe('agnes backup', () => {
  it('writes every state table, the secrets, the config and the extracts, listed in the manifest', async () => {
    expect(manifest).toMatchObject({
      format_version: 1,
      agnes_version: 'test',
      schema_version: latestSchemaVersion(),
      dialect: 'sqlite',
    });
    expect(Object.keys(manifest.tables).sort()).toEqual([...STATE_TABLES].sort());
    expect(manifest.tables).not.toHaveProperty('replicas');
    expect(manifest.tables.users!.rows).toBe(2);
    const users = (await readFile(join(snapshot, 'state', 'users.ndjson'), 'utf8')).trim().split('\n');
    const first = JSON.parse(users[0]!);
    expect(typeof first.active).toBe('boolean');
    expect(first.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    const sync = JSON.parse(
      (await readFile(join(snapshot, 'state', 'sync_state.ndjson'), 'utf8')).split('\n')[0]!,
    );
    expect(Array.isArray(sync.files)).toBe(true);
    const paths = manifest.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'config/instance.yaml',
        'secrets/jwt-secret',
        'secrets/policy-salt',
        'extracts/shop/extract.duckdb',
        'extracts/shop/data/orders.parquet',
        'extracts/shop/data/events/part-0.parquet',
      ]),
    );
    expect(paths.some((p) => p.includes('.write.lock'))).toBe(false);
    expect((await stat(join(snapshot, 'secrets', 'jwt-secret'))).mode & 0o777).toBe(0o600);
    expect(existsSync(`${snapshot}.tmp`)).toBe(false);
    await expect(verifySnapshot(snapshot)).resolves.toEqual(manifest);
  });

  it('refuses an existing directory and leaves neither DIR nor DIR.tmp when a part fails', async () => {
    await expect(
      withStore(server.dataDir, (db) =>
        writeSnapshot({
          db,
          dataDir: server.dataDir,
          out: snapshot,
          configPath: null,
          includeExtracts: false,
          agnesVersion: 't',
        }),
      ),
    ).rejects.toThrow(/already exists/);
    const out = join(root, 'failed');
    await expect(
      withStore(server.dataDir, (db) =>
        writeSnapshot({
          db,
          dataDir: server.dataDir,
          out,
          configPath: join(root, 'no-such-instance.yaml'),
          includeExtracts: true,
          agnesVersion: 't',
        }),
      ),
    ).rejects.toThrow(/no-such-instance/);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(`${out}.tmp`)).toBe(false);
  });
});

describe('agnes restore', () => {
  it('restores into an empty DATA_DIR that serves the same users, grants, tokens, memory and data', async () => {
    const target = join(root, 'restored');
    await restoreInto(target, snapshot);
    const [before, after] = await Promise.all([
      withStore(server.dataDir, contents),
      withStore(target, contents),
    ]);
    expect(after).toEqual(before);
    expect((await stat(join(target, 'state', 'jwt-secret'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(target, 'state', 'jwt-secret'), 'utf8')).toBe(`${JWT_FILE}\n`);
    expect((await stat(join(target, 'state', 'policy-salt'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(target, 'restore', 'instance.yaml'), 'utf8')).toContain('log_level: warn');

    const duck = await openDuck(join(target, 'extracts', 'shop', 'extract.duckdb'), { readOnly: true });
    try {
      const views = await queryRows<{ sql: string }>(
        duck.conn,
        'SELECT sql FROM duckdb_views() WHERE NOT internal',
      );
      expect(views.length).toBeGreaterThan(0);
      for (const view of views) {
        expect(view.sql).toContain(join(target, 'extracts', 'shop', 'data'));
        expect(view.sql).not.toContain(server.dataDir);
      }
    } finally {
      duck.close();
    }

    const restored = await withServer({ dataDir: target });
    try {
      await expectServesTheSnapshot(restored, { admin, reader });
    } finally {
      await restored.close();
    }
  });

  it.each([
    ['a table', 'state/users.ndjson', 'state/users.ndjson: checksum differs'],
    [
      'an extract file',
      'extracts/shop/data/orders.parquet',
      'extracts/shop/data/orders.parquet: checksum differs',
    ],
  ])('refuses a snapshot with one byte of %s changed', async (_what, path, message) => {
    const dir = copyOf(`tampered-${path.replaceAll('/', '-')}`);
    const bytes = await readFile(join(dir, path));
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 1;
    await writeFile(join(dir, path), bytes);
    await expect(verifySnapshot(dir)).rejects.toThrow(message);
  });

  it('refuses a manifest with one byte of a checksum changed, and an unlisted file', async () => {
    const dir = copyOf('tampered-manifest');
    const text = await readFile(join(dir, 'manifest.json'), 'utf8');
    const sha = manifest.tables.users!.sha256;
    const changed = `${sha.slice(0, -1)}${sha.endsWith('0') ? '1' : '0'}`;
    await writeFile(join(dir, 'manifest.json'), text.replace(sha, changed));
    await expect(verifySnapshot(dir)).rejects.toThrow('state/users.ndjson: checksum differs');

    const extra = copyOf('extra-file');
    await appendFile(join(extra, 'secrets', 'stowaway'), 'x');
    await expect(verifySnapshot(extra)).rejects.toThrow('secrets/stowaway: not listed in manifest.json');
  });

  it('refuses a manifest naming a file outside what a snapshot holds', async () => {
    for (const path of [
      'secrets/../../escape',
      'secrets/other-key',
      'extracts/shop/notes.txt',
      'state/x',
      '/etc/passwd',
    ]) {
      const dir = copyOf(`bad-path-${path.replaceAll('/', '_')}`);
      const bad = { ...manifest, files: [...manifest.files, { path, size: 0, sha256: '0'.repeat(64) }] };
      await writeFile(join(dir, 'manifest.json'), JSON.stringify(bad));
      await expect(verifySnapshot(dir), path).rejects.toThrow(`file ${JSON.stringify(path)} is`);
    }
  });

  it('refuses a table file with a line that is not a JSON object even when its checksum is listed', async () => {
    const dir = copyOf('not-json');
    const path = join(dir, 'state', 'pending_codes.ndjson');
    await writeFile(path, '[1, 2]\n');
    const changed = {
      ...manifest,
      tables: {
        ...manifest.tables,
        pending_codes: { rows: 1, sha256: createHash('sha256').update('[1, 2]\n').digest('hex') },
      },
    };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(changed));
    await expect(verifySnapshot(dir)).rejects.toThrow(
      'state/pending_codes.ndjson: line 1 is not a JSON object',
    );
  });

  it('refuses unknown and missing tables before touching the target', () => {
    const { users, ...withoutUsers } = manifest.tables;
    expect(() => refuseIncompatible({ ...manifest, tables: withoutUsers })).toThrow(
      'manifest.json: state table users missing',
    );
    expect(() =>
      refuseIncompatible({ ...manifest, tables: { ...manifest.tables, intruders: users! } }),
    ).toThrow('manifest.json: unknown state table intruders');
  });

  it('refuses a snapshot from a newer schema before touching the target', async () => {
    const dir = copyOf('newer');
    const newer = { ...manifest, schema_version: latestSchemaVersion() + 1 };
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(newer));
    const target = join(root, 'newer-target');
    await expect(restoreInto(target, dir)).rejects.toThrow(/newer than this version/);
  });

  it('loads a snapshot of an older schema at its own version, then migrates it to the latest', async () => {
    const old = join(root, 'old-source');
    const older = latestSchemaVersion() - 1;
    const oldSnapshot = join(root, 'old-snap');
    await withStore(old, async (db) => {
      await migrateToVersion(db, older);
      await db
        .insertInto('schema_version')
        .values({ version: older, applied_at: new Date().toISOString() })
        .execute();
      await createRepositories(db).users.create({ email: 'veteran@example.com', role: 'admin' });
      await writeSnapshot({
        db,
        dataDir: old,
        out: oldSnapshot,
        configPath: null,
        includeExtracts: false,
        agnesVersion: 'old',
      });
    });
    const oldManifest = await verifySnapshot(oldSnapshot);
    expect(oldManifest.schema_version).toBe(older);
    const target = join(root, 'from-old');
    await restoreInto(target, oldSnapshot);
    await withStore(target, async (db) => {
      expect(await schemaVersion(db)).toBe(latestSchemaVersion());
      expect((await db.selectFrom('users').select('email').execute()).map((u) => u.email)).toEqual([
        'veteran@example.com',
      ]);
      const tables = (await db.introspection.getTables()).map((t) => t.name).sort();
      expect(tables).toEqual([...STATE_TABLES, ...EPHEMERAL_TABLES].sort());
    });
  });

  it('refuses a store that holds users without --force, and replaces it with --force', async () => {
    const target = join(root, 'occupied');
    const stranger = await withStore(target, async (db) => {
      await migrateToLatest(db);
      return createRepositories(db).users.create({ email: 'stranger@example.com' });
    });
    await expect(restoreInto(target, snapshot)).rejects.toThrow(BackupError);
    await expect(restoreInto(target, snapshot)).rejects.toThrow(/--force/);
    await withStore(target, async (db) => {
      expect((await db.selectFrom('users').select('email').execute()).map((u) => u.email)).toEqual([
        stranger.email,
      ]);
    });
    await restoreInto(target, snapshot, true);
    await withStore(target, async (db) => {
      const emails = (await db.selectFrom('users').select('email').execute()).map((u) => u.email).sort();
      expect(emails).toEqual([admin.email, reader.email].sort());
    });
    expect(await readdir(join(target, 'extracts'))).toEqual(['shop']);
  });
});

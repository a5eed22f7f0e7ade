import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, inject } from 'vitest';
import {
  openStateDb,
  type PostgresStore,
  type StateDb,
  type StateDialect,
} from '../../../../src/core/state/db.js';
import { migrateToLatest } from '../../../../src/core/state/migrate.js';
import {
  createRepositories,
  type Repositories,
  type User,
} from '../../../../src/core/state/repositories/index.js';
import type { Clock } from '../../../../src/core/time.js';
import { adminQuery } from '../../../support/postgres-cluster.js';
import { TEMPLATE_DATABASE } from '../../../support/postgres-setup.js';

/** A clock the test moves by hand, so timestamps and expiry are deterministic. */
export class ManualClock implements Clock {
  #now: number;

  constructor(start = '2025-01-01T00:00:00.000Z') {
    this.#now = Date.parse(start);
  }

  now(): Date {
    return new Date(this.#now);
  }

  iso(): string {
    return this.now().toISOString();
  }

  /** The instant `ms` from now, for expiry and retry times. */
  isoIn(ms: number): string {
    return new Date(this.#now + ms).toISOString();
  }

  advance(ms: number): void {
    this.#now += ms;
  }
}

export const MINUTE = 60_000;
export const DAY = 86_400_000;

/**
 * The dialect the state tests run on: the `postgres` project (vitest.config.ts) runs the same
 * files as `unit` once more with a PostgreSQL test cluster (test/support/postgres-setup.ts).
 */
export const TEST_DIALECT: StateDialect = inject('postgresUrl') === undefined ? 'sqlite' : 'postgres';

/** A store in its own new database: SQLite under a temporary DATA_DIR, or a PostgreSQL database. */
export interface TestDatabase {
  db: StateDb;
  dataDir: string;
  /** Where the PostgreSQL store lives, for a second connection to it; undefined on SQLite. */
  postgres: PostgresStore | undefined;
  /** Closes the store and deletes its database. */
  remove(): Promise<void>;
}

/**
 * A new, empty store on this project's dialect, or (`migrated`) one with every migration applied —
 * on PostgreSQL a copy of the template the setup migrated once, which is much faster than
 * migrating each test's database again.
 */
export async function openTestDatabase(options: { migrated: boolean }): Promise<TestDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'agnes-state-'));
  if (TEST_DIALECT === 'sqlite') {
    const db = openStateDb(dataDir);
    if (options.migrated) await migrateToLatest(db);
    return {
      db,
      dataDir,
      postgres: undefined,
      remove: async () => {
        await db.destroy();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const url = inject('postgresUrl');
  const name = `agnes_test_${randomUUID().replaceAll('-', '')}`;
  // FILE_COPY (PostgreSQL 15+) copies the template's few files instead of logging every page:
  // several times faster for a small database on a cluster that never syncs.
  const template = options.migrated ? TEMPLATE_DATABASE : 'template1';
  await adminQuery(url, `CREATE DATABASE ${name} TEMPLATE ${template} STRATEGY FILE_COPY`);
  const postgres: PostgresStore = { url: `${url}${name}`, poolSize: 10, connectTimeoutSeconds: 30 };
  const db = openStateDb(dataDir, postgres);
  return {
    db,
    dataDir,
    postgres,
    remove: async () => {
      await db.destroy();
      await adminQuery(url, `DROP DATABASE ${name} WITH (FORCE)`);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * In the `postgres` project without a PostgreSQL to run on, skips the test with the reason (the
 * setup said once which tests and why; with CI=true it stopped the run instead).
 */
export function skipWithoutPostgres(context: { skip(note?: string): void }): void {
  const unavailable = inject('postgresUnavailable');
  if (TEST_DIALECT === 'postgres' && unavailable) context.skip(`no PostgreSQL: ${unavailable}`);
}

export interface FreshStore {
  db: StateDb;
  /** The temporary DATA_DIR holding the store, for a second connection to it. */
  dataDir: string;
  clock: ManualClock;
  repos: Repositories;
}

/**
 * Registers hooks giving each test a migrated state store in its own new database;
 * call the returned function inside a test to get it.
 */
export function useFreshStore(): () => FreshStore {
  let database: TestDatabase | undefined;
  let store: FreshStore | undefined;
  beforeEach(async (context) => {
    skipWithoutPostgres(context);
    database = await openTestDatabase({ migrated: true });
    const clock = new ManualClock();
    const { db, dataDir } = database;
    store = { db, dataDir, clock, repos: createRepositories(db, clock) };
  });
  afterEach(async () => {
    await database?.remove();
    store = undefined;
    database = undefined;
  });
  return () => {
    if (!store) throw new Error('useFreshStore() is only available inside a test');
    return store;
  };
}

export function createUser(
  repos: Repositories,
  email: string,
  role: User['role'] = 'analyst',
): Promise<User> {
  return repos.users.create({ email, role });
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openStateDb, type StateDb } from '../../../../src/core/state/db.js';
import { migrateToLatest } from '../../../../src/core/state/migrate.js';
import {
  createRepositories,
  type Repositories,
  type User,
} from '../../../../src/core/state/repositories/index.js';
import type { Clock } from '../../../../src/core/time.js';

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

export interface FreshStore {
  db: StateDb;
  /** The temporary DATA_DIR holding the store, for a second connection to it. */
  dataDir: string;
  clock: ManualClock;
  repos: Repositories;
}

/**
 * Registers hooks giving each test a migrated state store in its own temporary directory;
 * call the returned function inside a test to get it.
 */
export function useFreshStore(): () => FreshStore {
  let dir: string | undefined;
  let store: FreshStore | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agnes-state-'));
    const db = openStateDb(dir);
    await migrateToLatest(db);
    const clock = new ManualClock();
    store = { db, dataDir: dir, clock, repos: createRepositories(db, clock) };
  });
  afterEach(async () => {
    await store?.db.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
    store = undefined;
    dir = undefined;
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

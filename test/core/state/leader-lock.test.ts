import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { LeaderLock } from '../../../src/core/state/leader-lock.js';
import { adminQuery } from '../../support/postgres-cluster.js';
import {
  openTestDatabase,
  skipWithoutPostgres,
  TEST_DIALECT,
  type TestDatabase,
} from './repositories/fresh-store.js';

/** A replica's view of one leader lock: whether its service runs. */
function contender(database: TestDatabase) {
  const state = { running: false, starts: 0 };
  const lock = new LeaderLock({
    store: database.postgres,
    name: 'scheduler',
    retryMs: 100,
    leadership: {
      acquired: async () => {
        state.running = true;
        state.starts += 1;
      },
      released: async () => {
        state.running = false;
      },
    },
    log: pino({ level: 'silent' }),
  });
  return { lock, state };
}

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe(`leader lock on ${TEST_DIALECT}`, () => {
  let database: TestDatabase | undefined;
  const locks: LeaderLock[] = [];

  beforeEach(async (context) => {
    skipWithoutPostgres(context);
    database = await openTestDatabase({ migrated: false });
  });

  afterEach(async () => {
    for (const lock of locks.splice(0)) await lock.stop();
    await database?.remove();
  });

  it('lets one contender lead on PostgreSQL and another take over when it stops; with SQLite each process leads', async () => {
    const first = contender(database!);
    const second = contender(database!);
    locks.push(first.lock, second.lock);

    await first.lock.start();
    await second.lock.start();

    if (TEST_DIALECT === 'sqlite') {
      // One process per SQLite store: the lock is no lock at all.
      expect([first.state.running, second.state.running]).toEqual([true, true]);
      return;
    }
    expect([first.state.running, second.state.running]).toEqual([true, false]);
    await sleep(300);
    expect(second.state.starts).toBe(0);

    await first.lock.stop();
    await until(() => second.state.running);

    expect(first.state.running).toBe(false);
    expect(second.lock.leading).toBe(true);

    // The leader's session dies (as when its process is killed): a contender takes over, and
    // the old leader, noticing at its next check, stops its service.
    const third = contender(database!);
    locks.push(third.lock);
    await third.lock.start();
    expect(third.state.running).toBe(false);
    // Only this test's database: other test files share the cluster.
    const name = new URL(database!.postgres!.url).pathname.slice(1);
    await adminQuery(
      inject('postgresUrl')!,
      `select pg_terminate_backend(l.pid) from pg_locks l join pg_database d on d.oid = l.database
       where l.locktype = 'advisory' and l.granted and d.datname = '${name}'`,
    );
    await until(() => second.state.starts + third.state.starts === 2);
    await sleep(300);
    expect([second.lock.leading, third.lock.leading].filter(Boolean)).toHaveLength(1);
    expect([second.state.running, third.state.running].filter(Boolean)).toHaveLength(1);
  });
});

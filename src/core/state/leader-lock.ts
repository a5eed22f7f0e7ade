import pg from 'pg';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { PostgresStore } from './db.js';

export interface Leadership {
  /** Called when this process becomes the one leader. */
  acquired(): Promise<void>;
  /** Called when it stops leading (its session died, or at stop); also at stop if it never led. */
  released(): Promise<void>;
}

/**
 * One active instance of a service across the replicas sharing a PostgreSQL store (13 §3): a
 * session advisory lock held for the life of a connection of its own. PostgreSQL drops the lock
 * with the session, so when the leader dies another replica, trying every `retryMs`, takes over.
 * The leader checks its session as often and stops leading when it is gone. With SQLite there is
 * one process, which always leads.
 */
export class LeaderLock {
  readonly #store: PostgresStore | undefined;
  readonly #name: string;
  readonly #retryMs: number;
  readonly #leadership: Leadership;
  readonly #log: Logger;
  #client: pg.Client | null = null;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #leading = false;
  #turn: Promise<void> = Promise.resolve();

  constructor(options: {
    store: PostgresStore | undefined;
    name: string;
    retryMs: number;
    leadership: Leadership;
    log: Logger;
  }) {
    this.#store = options.store;
    this.#name = options.name;
    this.#retryMs = options.retryMs;
    this.#leadership = options.leadership;
    this.#log = options.log;
  }

  get leading(): boolean {
    return this.#leading;
  }

  async start(): Promise<void> {
    if (!this.#store) {
      this.#leading = true;
      await this.#leadership.acquired();
      return;
    }
    await this.#step();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#turn;
    this.#leading = false;
    await this.#leadership.released();
    await this.#client?.end().catch(() => undefined);
    this.#client = null;
  }

  /** One try to lead, or one check that the lead is still held; turns never overlap. */
  #step(): Promise<void> {
    this.#turn = this.#turn.then(async () => {
      if (this.#stopped) return;
      try {
        if (this.#client) await this.#check(this.#client);
        else await this.#tryAcquire(this.#store!);
      } catch (error) {
        this.#log.warn({ lock: this.#name, err: errorMessage(error) }, 'leader lock check failed');
      }
      if (!this.#stopped) {
        this.#timer = setTimeout(() => void this.#step(), this.#retryMs);
        this.#timer.unref();
      }
    });
    return this.#turn;
  }

  async #tryAcquire(store: PostgresStore): Promise<void> {
    const client = new pg.Client({
      connectionString: store.url,
      connectionTimeoutMillis: store.connectTimeoutSeconds * 1000,
      keepAlive: true,
    });
    // A session that breaks between checks is noticed at the next check.
    client.on('error', () => undefined);
    await client.connect();
    const { rows } = await client.query<{ held: boolean }>(
      'select pg_try_advisory_lock(hashtext($1)) as held',
      [`agnes:leader:${this.#name}`],
    );
    if (!rows[0]?.held || this.#stopped) {
      await client.end();
      return;
    }
    this.#client = client;
    this.#leading = true;
    this.#log.info({ lock: this.#name }, 'leading');
    await this.#leadership.acquired();
  }

  async #check(client: pg.Client): Promise<void> {
    try {
      await client.query('select 1');
    } catch (error) {
      // The session and its lock are gone: another replica may lead already.
      this.#client = null;
      this.#leading = false;
      await client.end().catch(() => undefined);
      this.#log.warn({ lock: this.#name, err: errorMessage(error) }, 'lost the lead');
      await this.#leadership.released();
    }
  }
}

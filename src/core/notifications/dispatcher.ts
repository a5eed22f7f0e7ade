import type { InstanceConfig } from '../config/index.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../jobs/logger.js';
import type { DeliveryOutcome, Notification, Repositories } from '../state/repositories/index.js';
import { type Clock, toIso } from '../time.js';
import { type ChannelEndpoint, type ChannelOutcome, dispatchWebsocket, sendTelegram } from './channels.js';
import { onNotificationsQueued } from './outbox-signal.js';

/**
 * The outbox dispatcher (08 §8, §9): delivers each notification's pending channels and records the
 * outcome in its row. A channel is marked `sent` only after the receiver acknowledged; the
 * receivers deduplicate by notification id, so a retry after a crash mid-request never shows a
 * message twice. Rows are claimed before delivery, so a crash leaves them due again once the claim
 * lapses (the retry delay of that attempt), and one cycle runs at a time in the process: the
 * instance runs one dispatcher (13), and inside it no row is handed out twice.
 */

/** Retry delays after the 1st…5th failed attempt, in multiples of `retry_base_seconds`: 30 s, 2 min, 10 min, 30 min, 2 h. */
const RETRY_MULTIPLIERS = [1, 4, 20, 60, 240] as const;
/** The first attempt and five retries; a channel still failing after them is `failed`. */
export const MAX_ATTEMPTS = RETRY_MULTIPLIERS.length + 1;
const BATCH = 100;
const PARALLEL_ROWS = 8;

export interface DispatcherOptions {
  repos: Pick<Repositories, 'notifications' | 'telegram'>;
  config: Pick<InstanceConfig, 'notifications' | 'telegram' | 'ws_gateway'>;
  clock: Clock;
  log: Logger;
  /** How often to look for due rows besides the wake-ups (retries, rows a crash left). */
  pollMs?: number;
  requestTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** Seconds to wait after `attempts` failed attempts (1-based), or null once they are used up. */
export function retryDelaySeconds(attempts: number, baseSeconds: number): number | null {
  const multiplier = RETRY_MULTIPLIERS[attempts - 1];
  return attempts >= 1 && multiplier !== undefined ? multiplier * baseSeconds : null;
}

interface ChannelResults {
  telegram?: ChannelOutcome;
  websocket?: ChannelOutcome;
}

/** What one attempt makes of the row: final statuses, or the time of the next try. */
export function settleAttempt(
  row: Pick<Notification, 'attempts'>,
  results: ChannelResults,
  now: Date,
  baseSeconds: number,
): DeliveryOutcome {
  const attempts = row.attempts + 1;
  const delay = retryDelaySeconds(attempts, baseSeconds);
  const status = (outcome: ChannelOutcome) =>
    outcome.status === 'retry' ? (delay === null ? 'failed' : 'pending') : outcome.status;
  const errors = Object.values(results).flatMap((o: ChannelOutcome) => ('error' in o ? [o.error] : []));
  const retrying = Object.values(results).some((o: ChannelOutcome) => o.status === 'retry') && delay !== null;
  return {
    ...(results.telegram ? { telegram_status: status(results.telegram) } : {}),
    ...(results.websocket ? { ws_status: status(results.websocket) } : {}),
    next_attempt_at: retrying ? toIso(new Date(now.getTime() + delay * 1000)) : null,
    last_error: errors.length > 0 ? errors.join('; ') : null,
  };
}

export class NotificationDispatcher {
  readonly #options: DispatcherOptions;
  readonly #fetch: typeof fetch;
  #running = false;
  #stopping = false;
  #timer: NodeJS.Timeout | null = null;
  #unsubscribe: (() => void) | null = null;
  #current: Promise<void> | null = null;
  #again = false;

  constructor(options: DispatcherOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  /** Delivers what is due now, then on every wake-up and poll. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopping = false;
    this.#unsubscribe = onNotificationsQueued(() => this.wake());
    this.#timer = setInterval(() => this.wake(), this.#options.pollMs ?? 5_000);
    this.wake();
  }

  /**
   * Stops waking and waits for the batch under way, whose requests time out within
   * `requestTimeoutMs`; rows not reached yet stay due for the next start.
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#stopping = true;
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    while (this.#current) await this.#current;
  }

  /** Starts a cycle, or asks the running one to look again when it ends. */
  wake(): void {
    if (!this.#running) return;
    if (this.#current) {
      this.#again = true;
      return;
    }
    this.#current = (async () => {
      do {
        this.#again = false;
        await this.#cycle();
      } while (this.#again && this.#running);
    })().finally(() => {
      this.#current = null;
    });
  }

  /** One cycle after any under way (tests drive time by hand with it). */
  async runOnce(): Promise<void> {
    while (this.#current) await this.#current;
    this.#current = this.#cycle().finally(() => {
      this.#current = null;
    });
    await this.#current;
  }

  async #cycle(): Promise<void> {
    const { repos, log } = this.#options;
    try {
      for (;;) {
        const due = await repos.notifications.dueDeliveries(toIso(this.#options.clock.now()), BATCH);
        for (let i = 0; i < due.length; i += PARALLEL_ROWS) {
          if (this.#stopping) return;
          await Promise.all(due.slice(i, i + PARALLEL_ROWS).map((row) => this.#attempt(row)));
        }
        if (due.length < BATCH) return;
      }
    } catch (error) {
      log.error({ err: errorMessage(error) }, 'notification delivery cycle failed');
    }
  }

  /** One row's attempt; its failure is logged and leaves the row to its claim, never ending the cycle early. */
  async #attempt(row: Notification): Promise<void> {
    try {
      await this.#deliver(row);
    } catch (error) {
      this.#options.log.error(
        { notification_id: row.id, err: errorMessage(error) },
        'notification delivery attempt failed',
      );
    }
  }

  async #deliver(row: Notification): Promise<void> {
    const { repos, clock, config, log } = this.#options;
    const base = config.notifications.retry_base_seconds;
    const lease = retryDelaySeconds(Math.min(row.attempts + 1, RETRY_MULTIPLIERS.length), base) ?? base;
    if (!(await repos.notifications.claim(row, toIso(new Date(clock.now().getTime() + lease * 1000)))))
      return;
    const [telegram, websocket] = await Promise.all([
      row.telegram_status === 'pending' ? this.#telegram(row) : undefined,
      row.ws_status === 'pending' ? this.#websocket(row) : undefined,
    ]);
    const results: ChannelResults = {
      ...(telegram ? { telegram } : {}),
      ...(websocket ? { websocket } : {}),
    };
    const outcome = settleAttempt(row, results, clock.now(), base);
    await repos.notifications.recordDelivery(row.id, outcome);
    if (outcome.last_error)
      log.warn(
        {
          notification_id: row.id,
          attempt: row.attempts + 1,
          telegram: outcome.telegram_status,
          websocket: outcome.ws_status,
          error: outcome.last_error,
        },
        'notification delivery incomplete',
      );
  }

  #endpoint(url: string): ChannelEndpoint | null {
    const token = this.#options.config.notifications.dispatch_token;
    if (!url || !token) return null;
    return { url, token, timeoutMs: this.#options.requestTimeoutMs ?? 10_000, fetch: this.#fetch };
  }

  async #telegram(row: Notification): Promise<ChannelOutcome> {
    const endpoint = this.#endpoint(this.#options.config.telegram.dispatch_url);
    if (!endpoint) return { status: 'skipped' };
    const link = await this.#options.repos.telegram.getByUser(row.user_id);
    if (!link) return { status: 'skipped' };
    return sendTelegram(endpoint, link.chat_id, row);
  }

  #websocket(row: Notification): Promise<ChannelOutcome> {
    const endpoint = this.#endpoint(this.#options.config.ws_gateway.dispatch_url);
    return endpoint ? dispatchWebsocket(endpoint, row) : Promise.resolve({ status: 'skipped' });
  }
}

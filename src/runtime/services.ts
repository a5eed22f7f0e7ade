import type { Logger } from 'pino';
import { errorMessage } from '../core/errors.js';

/**
 * A part of the running instance with a lifetime: the job runner, the query engine, and later the
 * scheduler, the Telegram bot, the WebSocket gateway, the memory worker.
 */
export interface Service {
  readonly name: string;
  start(): Promise<void>;
  /**
   * Releases what the service holds; called once at shutdown whether or not it was started (a
   * command that never starts services still closes the engines it opened).
   */
  stop(): Promise<void>;
}

/**
 * Services in dependency order: started first to last, stopped last to first. A failed start stops
 * them all; a failed stop is logged and the others still stop, so shutdown always reaches the
 * state store.
 */
export class ServiceList {
  readonly #services: Service[] = [];
  readonly #log: Logger;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;

  constructor(log: Logger, services: readonly Service[] = []) {
    this.#log = log;
    for (const service of services) this.add(service);
  }

  get names(): string[] {
    return this.#services.map((s) => s.name);
  }

  add(service: Service): void {
    if (this.#starting || this.#stopping) throw new Error(`service ${service.name} added after start`);
    if (this.#services.some((s) => s.name === service.name))
      throw new Error(`service ${service.name} is listed twice`);
    this.#services.push(service);
  }

  /** Starts every service once; later calls wait for the first. */
  start(): Promise<void> {
    this.#starting ??= this.#startAll();
    return this.#starting;
  }

  async #startAll(): Promise<void> {
    for (const service of this.#services) {
      if (this.#stopping) return;
      try {
        await service.start();
      } catch (error) {
        this.#log.error({ service: service.name, err: errorMessage(error) }, 'service failed to start');
        await this.stop();
        throw error;
      }
    }
  }

  /** Stops every service in reverse order, started or not. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stopAll();
    return this.#stopping;
  }

  async #stopAll(): Promise<void> {
    for (const service of [...this.#services].reverse()) {
      try {
        await service.stop();
      } catch (error) {
        this.#log.error({ service: service.name, err: errorMessage(error) }, 'service failed to stop');
      }
    }
  }
}

import { setTimeout as sleep } from 'node:timers/promises';
import { autoRetry } from '@grammyjs/auto-retry';
import { Bot, BotError, type Context, GrammyError, HttpError } from 'grammy';
import type { Update } from 'grammy/types';
import type { TelegramSendRequest } from '../../contract/index.js';
import type { Logger } from '../../core/jobs/logger.js';
import { CommandReplies, type ReplySettings, type TelegramAppPort } from './commands.js';
import type { DeliveryOutcome } from './dispatch.js';
import { KeyedSequencer } from './sequencer.js';

export interface TelegramBotOptions {
  /** `telegram.bot_token`: never logged, never part of an error this module reports. */
  token: string;
  /** `telegram.api_root`; tests point it at the fake Bot API. */
  apiRoot: string;
  app: TelegramAppPort;
  replies: ReplySettings;
  log: Logger;
  /** Seconds one `getUpdates` long poll waits for updates (Telegram allows up to 50). */
  pollSeconds?: number;
  /** Updates handled at once before polling pauses for them to finish. */
  maxInFlight?: number;
}

export const APP_UNAVAILABLE = 'Agnes cannot answer right now. Please try again in a few minutes.';

/** Raised when Telegram refuses the bot itself (a wrong token): the process cannot go on. */
export class TelegramSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelegramSetupError';
  }
}

/**
 * Log fields of an error from grammY, the app or a handler: the method, Telegram's code and
 * description, or the app's status. Never the error's own wrapped cause, whose URL holds the
 * bot token, nor the payload, which holds message text.
 */
export function errorFields(error: unknown): Record<string, unknown> {
  const inner = error instanceof BotError ? error.error : error;
  if (inner instanceof GrammyError)
    return { method: inner.method, error_code: inner.error_code, description: inner.description };
  if (inner instanceof HttpError) return { error: inner.message };
  if (inner instanceof Error) {
    const status = (inner as { status?: unknown }).status;
    const code = (inner as { code?: unknown }).code;
    return {
      error: inner.message,
      ...(typeof status === 'number' ? { status } : {}),
      ...(code ? { code } : {}),
    };
  }
  return { error: String(inner) };
}

/**
 * grammY's Node build types its signals with the `abort-controller` polyfill's class; its
 * node-fetch accepts Node's own AbortSignal, which is what we hand it.
 */
type GrammySignal = Parameters<Bot['api']['getUpdates']>[1];
const forGrammy = (signal: AbortSignal) => signal as unknown as GrammySignal;

/** Waits doubling from 1 s to 60 s between failed calls, cut short by stopping. */
class Backoff {
  #ms = 1_000;

  get ms(): number {
    return this.#ms;
  }

  reset(): void {
    this.#ms = 1_000;
  }

  async wait(signal: AbortSignal): Promise<void> {
    const ms = this.#ms;
    this.#ms = Math.min(ms * 2, 60_000);
    await sleep(ms, undefined, { signal }).catch(() => undefined);
  }
}

/**
 * The Telegram bot (08 §2): long-polls `message` updates, answers each chat's messages in order
 * and different chats side by side, and sends the notifications the dispatch endpoint hands it.
 * API calls go through the auto-retry transformer: 3 attempts, honouring `retry_after` up to 60 s.
 */
export class TelegramBot {
  readonly #bot: Bot;
  readonly #log: Logger;
  readonly #sequencer: KeyedSequencer<number>;
  readonly #pollSeconds: number;
  readonly #maxInFlight: number;
  readonly #abort = new AbortController();
  #offset = 0;
  #confirmed = 0;
  #loop: Promise<void> | null = null;

  constructor(options: TelegramBotOptions) {
    this.#log = options.log;
    this.#pollSeconds = options.pollSeconds ?? 30;
    this.#maxInFlight = options.maxInFlight ?? 100;
    this.#bot = new Bot(options.token, { client: { apiRoot: options.apiRoot } });
    // Three attempts in all (the plugin counts retries). Network errors are left to the callers:
    // the plugin would retry them without end, and the poll loop and the dispatcher back off
    // on their own.
    this.#bot.api.config.use(
      autoRetry({ maxRetryAttempts: 2, maxDelaySeconds: 60, rethrowHttpErrors: true }),
    );
    this.#sequencer = new KeyedSequencer<number>((error, chatId) =>
      this.#log.error({ chat_id: chatId, ...errorFields(error) }, 'update failed'),
    );
    const replies = new CommandReplies(options.app, options.replies);
    const bot = this.#bot;
    bot.command('start', (ctx) => this.#answer(ctx, () => replies.start(ctx.chat.id, ctx.from?.username)));
    bot.command('status', (ctx) => this.#answer(ctx, () => replies.status(ctx.chat.id)));
    bot.command('whoami', (ctx) => this.#answer(ctx, () => replies.whoami(ctx.chat.id)));
    bot.command('help', async (ctx) => ctx.reply(replies.help()));
    bot.on('message', async (ctx) => ctx.reply(replies.unknown()));
  }

  /**
   * Replies with what the app said; when the app cannot answer (down, or refusing the bot's
   * token) the chat hears so in one line instead of silence, and the cause is logged.
   */
  async #answer(ctx: Context & { chat: { id: number } }, reply: () => Promise<string>): Promise<void> {
    let text: string;
    try {
      text = await reply();
    } catch (error) {
      this.#log.error({ chat_id: ctx.chat.id, ...errorFields(error) }, 'the app did not answer');
      text = APP_UNAVAILABLE;
    }
    await ctx.reply(text);
  }

  /** The bot's own name, known once `start()` has read it with `getMe`. */
  get username(): string {
    return this.#bot.botInfo.username;
  }

  /**
   * Removes any webhook (long polling and a webhook exclude each other), reads the bot's name and
   * starts polling. A token Telegram refuses is a setup error; anything else is retried until
   * `stop()`.
   */
  async start(): Promise<void> {
    const signal = this.#abort.signal;
    const backoff = new Backoff();
    while (!signal.aborted) {
      try {
        await this.#bot.api.deleteWebhook({ drop_pending_updates: false }, forGrammy(signal));
        await this.#bot.init(forGrammy(signal));
        this.#loop = this.#poll();
        return;
      } catch (error) {
        if (error instanceof GrammyError && (error.error_code === 401 || error.error_code === 404))
          throw new TelegramSetupError(`Telegram refused telegram.bot_token (${error.error_code})`);
        if (signal.aborted) return;
        // Telegram unreachable at start is waited out, so a restarted container does not crash-loop.
        this.#log.warn({ retry_in_ms: backoff.ms, ...errorFields(error) }, 'cannot reach Telegram');
        await backoff.wait(signal);
      }
    }
  }

  /**
   * Stops polling, gives the updates under way `graceMs` to finish, and tells Telegram which
   * updates were taken so a restart does not answer them again.
   */
  async stop(graceMs: number): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    const drained = this.#sequencer.atMost(0).then(() => true);
    const finished = await Promise.race([drained, sleep(graceMs).then(() => false)]);
    if (!finished) this.#log.warn({ pending: this.#sequencer.pending }, 'updates still running at stop');
    if (this.#offset > this.#confirmed) {
      await this.#bot.api
        .getUpdates({ offset: this.#offset, limit: 1, timeout: 0 }, forGrammy(AbortSignal.timeout(2_000)))
        .catch((error: unknown) => this.#log.warn(errorFields(error), 'could not confirm the last updates'));
    }
  }

  /** One notification to one chat, for the dispatch endpoint (08 §9). */
  async deliver(request: TelegramSendRequest): Promise<DeliveryOutcome> {
    try {
      const message = await this.#bot.api.sendMessage(request.chat_id, request.text, {
        parse_mode: request.parse_mode,
      });
      return { ok: true, message_id: message.message_id };
    } catch (error) {
      this.#log.warn(
        { chat_id: request.chat_id, notification_id: request.notification_id, ...errorFields(error) },
        'sendMessage failed',
      );
      if (error instanceof GrammyError && error.error_code === 403)
        return { ok: false, status: 410, error: 'chat_unreachable' };
      return { ok: false, status: 502, error: 'telegram_error' };
    }
  }

  async #poll(): Promise<void> {
    const signal = this.#abort.signal;
    const backoff = new Backoff();
    while (!signal.aborted) {
      let updates: Update[];
      try {
        updates = await this.#bot.api.getUpdates(
          { offset: this.#offset, timeout: this.#pollSeconds, allowed_updates: ['message'] },
          forGrammy(signal),
        );
        this.#confirmed = this.#offset;
        backoff.reset();
      } catch (error) {
        if (signal.aborted) return;
        this.#log.warn({ retry_in_ms: backoff.ms, ...errorFields(error) }, 'getUpdates failed');
        await backoff.wait(signal);
        continue;
      }
      for (const update of updates) {
        this.#offset = Math.max(this.#offset, update.update_id + 1);
        const chatId = update.message?.chat.id;
        if (chatId === undefined) continue;
        this.#sequencer.submit(chatId, () => this.#bot.handleUpdate(update));
      }
      await this.#sequencer.atMost(this.#maxInFlight);
    }
  }
}

import type { TelegramChat, TelegramCodeResponse } from '../../contract/index.js';
import { TelegramBot } from '../../services/telegram-bot/bot.js';
import type { TelegramAppPort } from '../../services/telegram-bot/commands.js';
import { startDispatchServer } from '../../services/telegram-bot/dispatch.js';
import { loadInstance } from '../instance.js';
import { ServiceClient, ServiceRefusal, ServiceSetupError, serviceEndpoint } from '../service-client.js';
import { exitAfterStop, stopSignal } from '../service-process.js';

/** The bot's view of the app over HTTP (03 §19) with its service account's token. */
export function httpTelegramAppPort(client: ServiceClient): TelegramAppPort {
  return {
    async requestCode(chatId, telegramUsername) {
      try {
        return (await client.post('/api/telegram/codes', {
          chat_id: chatId,
          ...(telegramUsername ? { telegram_username: telegramUsername } : {}),
        })) as TelegramCodeResponse;
      } catch (error) {
        if (error instanceof ServiceRefusal && error.code === 'already_linked') return null;
        throw error;
      }
    },
    async chat(chatId) {
      return (await client.get(`/api/telegram/chats/${chatId}`)) as TelegramChat;
    },
  };
}

/** What updates under way get after SIGTERM; the process exits within 10 s (08 §0). */
const BOT_GRACE_MS = 6_000;

/**
 * `agnes telegram-bot` (08 §2): answers chats by long polling and, with `AGNES_DISPATCH_TOKEN`
 * set, serves the app's `/send` on `telegram.listen_host:listen_port`. It reads `instance.yaml`
 * and talks to the app over HTTP only; it never opens the state store.
 */
export async function telegramBotCommand(): Promise<never> {
  const instance = loadInstance({ syncLogs: true });
  const { telegram, notifications, server } = instance.loaded.config;
  if (!telegram.bot_token)
    throw new ServiceSetupError(
      'telegram.bot_token is not set (set TELEGRAM_BOT_TOKEN or telegram.bot_token)',
    );
  const endpoint = serviceEndpoint(instance.env);
  const log = instance.log.child({ service: 'telegram-bot' });
  const publicUrl = server.public_url?.replace(/\/+$/, '');
  const bot = new TelegramBot({
    token: telegram.bot_token,
    apiRoot: telegram.api_root,
    app: httpTelegramAppPort(new ServiceClient(endpoint)),
    replies: {
      instanceName: instance.loaded.config.instance.name,
      accountUrl: publicUrl ? `${publicUrl}/account` : null,
      codeTtlMinutes: telegram.code_ttl_minutes,
    },
    log,
  });
  const signal = stopSignal();
  const started = bot.start();
  // A signal while Telegram is still unreachable stops the start's retries too.
  const first = await Promise.race([started.then(() => null), signal]);
  const dispatch =
    first === null && notifications.dispatch_token
      ? await startDispatchServer({
          host: telegram.listen_host,
          port: telegram.listen_port,
          token: notifications.dispatch_token,
          deliver: (request) => bot.deliver(request),
          log,
        })
      : null;
  if (first === null) {
    log.info(
      { bot: bot.username, app: new URL(endpoint.apiUrl).origin, dispatch: dispatch?.url ?? null },
      dispatch
        ? 'telegram bot started'
        : 'telegram bot started without a dispatch endpoint (AGNES_DISPATCH_TOKEN unset)',
    );
  }
  log.info({ signal: first ?? (await signal) }, 'telegram bot stopping');
  return exitAfterStop(log, 'telegram bot', () => Promise.all([dispatch?.close(), bot.stop(BOT_GRACE_MS)]));
}

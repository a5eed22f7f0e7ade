import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/core/jobs/logger.js';
import { httpTelegramAppPort } from '../../../src/operator/commands/telegram-bot.js';
import { ServiceClient } from '../../../src/operator/service-client.js';
import { APP_UNAVAILABLE, TelegramBot } from '../../../src/services/telegram-bot/bot.js';
import { HELP, UNKNOWN } from '../../../src/services/telegram-bot/commands.js';
import { type DispatchServer, startDispatchServer } from '../../../src/services/telegram-bot/dispatch.js';
import { FAKE_BOT_USERNAME, FakeTelegram } from '../../fakes/telegram.js';
import { until } from '../../support/processes.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { type Shop, setupShop } from '../../support/shop.js';

const BOT_TOKEN = '123456:fake-bot-token-ABCDEFGHIJKLMNOP';
const DISPATCH_TOKEN = 'dispatch-token-0123456789abcdefghijklmnop';

/** Every log call, as one JSON line each, so tests can say what the logs never hold. */
function recordingLogger(lines: string[]): Logger {
  const at =
    (level: string) =>
    (fields: object, message?: string): void => {
      lines.push(JSON.stringify({ level, msg: message, ...fields }));
    };
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** The Telegram bot against the fake Bot API and the real app (08 §2, §9). */
describe('Telegram bot', () => {
  let server: TestServer;
  let shop: Shop;
  let service: TestUser;
  let telegram: FakeTelegram;
  let bot: TelegramBot;
  let dispatch: DispatchServer;
  const logs: string[] = [];
  let chatCounter = 500;
  const nextChat = () => {
    chatCounter += 1;
    return chatCounter;
  };

  /** A bot on the fake Bot API that calls the app with `appToken`. */
  const botWith = (appToken: string, lines: string[]) =>
    new TelegramBot({
      token: BOT_TOKEN,
      apiRoot: telegram.url,
      app: httpTelegramAppPort(new ServiceClient({ apiUrl: server.url, token: appToken })),
      replies: { instanceName: 'Agnes', accountUrl: 'https://agnes.example.com/account', codeTtlMinutes: 10 },
      log: recordingLogger(lines),
      pollSeconds: 2,
    });

  beforeAll(async () => {
    server = await withServer({ config: { server: { public_url: 'https://agnes.example.com' } } });
    shop = await setupShop(server);
    service = await createUser(server.ctx, 'viewer', { service: true });
    telegram = await FakeTelegram.start(BOT_TOKEN);
    bot = botWith(service.pat, logs);
    await bot.start();
    dispatch = await startDispatchServer({
      host: '127.0.0.1',
      port: 0,
      token: DISPATCH_TOKEN,
      deliver: (request) => bot.deliver(request),
      log: recordingLogger(logs),
    });
  });
  afterAll(async () => {
    await dispatch?.close();
    await bot?.stop(1_000);
    await telegram?.close();
    await server?.close();
  });
  afterEach(() => {
    // Neither the bot token nor any message text ever reaches a log line.
    for (const line of logs) {
      expect(line).not.toContain(BOT_TOKEN);
      expect(line).not.toContain(DISPATCH_TOKEN);
      expect(line).not.toContain('Your link code');
      expect(line).not.toContain('secret &amp; text');
    }
  });

  /** Sends a chat message and waits for the bot's `n`-th reply in that chat. */
  async function say(chatId: number, text: string, options: { username?: string } = {}): Promise<string> {
    const before = telegram.sentTo(chatId).length;
    telegram.pushMessage(chatId, text, options);
    const sent = await until(
      async () => telegram.sentTo(chatId).length > before && telegram.sentTo(chatId),
      `a reply to ${text}`,
    );
    return sent[before]!.text;
  }

  const send = (body: unknown, token = DISPATCH_TOKEN) =>
    call({ url: dispatch.url }, 'POST', '/send', {
      auth: token ? `Bearer ${token}` : undefined,
      body,
    });

  it('deletes any webhook and reads its name before it polls', async () => {
    await until(async () => telegram.calls.length >= 3, 'the first poll');
    expect(telegram.calls.slice(0, 3)).toEqual(['deleteWebhook', 'getMe', 'getUpdates']);
    expect(bot.username).toBe(FAKE_BOT_USERNAME);
  });

  it('links a chat: /start gives a code, the user verifies it, /status and /whoami answer for the account', async () => {
    const chatId = nextChat();
    const start = await say(chatId, '/start', { username: 'analyst_tg' });
    expect(start).toContain('valid for 10 minutes');
    expect(start).toContain('https://agnes.example.com/account');
    const code = /Your link code: ([A-Z2-9]{8})/.exec(start)?.[1];
    expect(code).toBeTruthy();
    expect(await say(chatId, '/status')).toBe(
      'This chat is not linked to an account. Send /start to get a link code.',
    );

    const verified = await call(server, 'POST', '/api/telegram/verify', {
      auth: shop.analyst.auth,
      body: { code },
    });
    expect(verified.body).toEqual({ status: 'linked', chat_id: chatId });
    expect((await server.ctx.repos.telegram.getByChat(chatId))?.telegram_username).toBe('analyst_tg');

    const status = await say(chatId, '/status');
    expect(status.split('\n')).toEqual([
      `This chat is linked to ${shop.analyst.email}.`,
      'Readable tables: 1',
      expect.stringMatching(/^Last data update: \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC$/),
      'Active alerts: 0',
      'Unread notifications: 0',
    ]);
    const user = await server.ctx.repos.users.getById(shop.analyst.id);
    expect(await say(chatId, '/whoami')).toBe(`${user!.name} <${shop.analyst.email}>`);
    expect(await say(chatId, '/start')).toBe(`This chat is linked to ${shop.analyst.email}.`);
  });

  it('accepts /cmd@BotName and arguments, and answers anything else with one line', async () => {
    const chatId = nextChat();
    expect(await say(chatId, `/help@${FAKE_BOT_USERNAME}`)).toBe(HELP);
    expect(await say(chatId, '/whoami please')).toBe('This chat is not linked.');
    expect(await say(chatId, `/whoami@${FAKE_BOT_USERNAME} now`)).toBe('This chat is not linked.');
    expect(await say(chatId, 'hello there')).toBe(UNKNOWN);
    expect(await say(chatId, '/frobnicate')).toBe(UNKNOWN);
  });

  it("answers a chat's messages in order, and one failing update does not lose the next", async () => {
    const chatId = nextChat();
    telegram.failNext('sendMessage', {
      status: 400,
      description: 'Bad Request: chat not found',
      chat_id: chatId,
    });
    telegram.pushMessage(chatId, '/help');
    telegram.pushMessage(chatId, '/whoami');
    telegram.pushMessage(chatId, 'third');
    const sent = await until(
      async () => telegram.sentTo(chatId).length >= 2 && telegram.sentTo(chatId),
      'the later replies',
    );
    expect(sent.map((m) => m.text)).toEqual(['This chat is not linked.', UNKNOWN]);
    expect(logs.some((line) => line.includes('"update failed"') && line.includes('"error_code":400'))).toBe(
      true,
    );
  });

  it('answers other chats while one chat waits on a rate limit', async () => {
    const slow = nextChat();
    const quick = nextChat();
    telegram.failNext('sendMessage', {
      status: 429,
      description: 'Too Many Requests: retry after 2',
      retry_after: 2,
      chat_id: slow,
    });
    telegram.pushMessage(slow, '/help');
    const started = Date.now();
    expect(await say(quick, '/help')).toBe(HELP);
    expect(Date.now() - started).toBeLessThan(1_500);
    const slowReply = await until(async () => telegram.sentTo(slow)[0], 'the rate-limited reply', 10_000);
    expect(slowReply.text).toBe(HELP);
  });

  it('tells the chat in one line when the app cannot answer, and keeps serving', async () => {
    const chatId = nextChat();
    const revoked = await createUser(server.ctx, 'viewer', { service: true });
    const lines: string[] = [];
    const lonely = botWith(`${revoked.pat}x`, lines);
    // Both bots poll the same fake, so the main one is stopped while this one answers.
    await bot.stop(1_000);
    await lonely.start();
    try {
      expect(await say(chatId, '/status')).toBe(APP_UNAVAILABLE);
      expect(await say(chatId, '/help')).toBe(HELP);
      expect(
        lines.some((line) => line.includes('"the app did not answer"') && line.includes('"status":401')),
      ).toBe(true);
    } finally {
      await lonely.stop(1_000);
      bot = botWith(service.pat, logs);
      await bot.start();
    }
  });

  describe('dispatch endpoint', () => {
    const message = (chatId: number, notificationId: string) => ({
      chat_id: chatId,
      text: '<b>Orders &lt; 10</b>\nsecret &amp; text',
      parse_mode: 'HTML',
      notification_id: notificationId,
    });

    it('delivers the HTML once, and a retried notification is not sent again', async () => {
      const chatId = nextChat();
      const first = await send(message(chatId, 'n-1'));
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ ok: true, message_id: expect.any(Number) });
      const again = await send(message(chatId, 'n-1'));
      expect(again.body).toEqual(first.body);
      expect(telegram.sentTo(chatId)).toEqual([
        {
          chat_id: chatId,
          text: '<b>Orders &lt; 10</b>\nsecret &amp; text',
          parse_mode: 'HTML',
          message_id: first.body.message_id,
        },
      ]);
    });

    it('sends concurrent requests for one notification once', async () => {
      const chatId = nextChat();
      const answers = await Promise.all([send(message(chatId, 'n-2')), send(message(chatId, 'n-2'))]);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      expect(telegram.sentTo(chatId)).toHaveLength(1);
    });

    it('honours a 429 retry_after and then delivers', async () => {
      const chatId = nextChat();
      telegram.failNext('sendMessage', {
        status: 429,
        description: 'Too Many Requests: retry after 1',
        retry_after: 1,
        chat_id: chatId,
      });
      const started = Date.now();
      const response = await send(message(chatId, 'n-3'));
      expect(response.status).toBe(200);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
      expect(telegram.sentTo(chatId)).toHaveLength(1);
    });

    it('gives up after three attempts, and a retry_after over 60 s is not waited for', async () => {
      const chatId = nextChat();
      const limited = {
        status: 429,
        description: 'Too Many Requests: retry after 0',
        retry_after: 0,
        chat_id: chatId,
      };
      telegram.failNext('sendMessage', limited, limited, limited);
      const calls = () => telegram.calls.filter((m) => m === 'sendMessage').length;
      const before = calls();
      const response = await send(message(chatId, 'n-7'));
      expect(response.status).toBe(502);
      expect(response.body).toEqual({ ok: false, error: 'telegram_error' });
      expect(calls() - before).toBe(3);

      telegram.failNext('sendMessage', { ...limited, retry_after: 61 });
      const started = Date.now();
      expect((await send(message(chatId, 'n-8'))).status).toBe(502);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(telegram.sentTo(chatId)).toEqual([]);
    });

    it('answers 410 chat_unreachable when the user blocked the bot, and 502 for other Telegram refusals', async () => {
      const blocked = nextChat();
      telegram.block(blocked);
      const gone = await send(message(blocked, 'n-4'));
      expect(gone.status).toBe(410);
      expect(gone.body).toEqual({ ok: false, error: 'chat_unreachable' });

      const chatId = nextChat();
      telegram.failNext('sendMessage', {
        status: 400,
        description: "Bad Request: can't parse entities",
        chat_id: chatId,
      });
      const refused = await send(message(chatId, 'n-5'));
      expect(refused.status).toBe(502);
      expect(refused.body).toEqual({ ok: false, error: 'telegram_error' });
      // A failed delivery is not remembered: the dispatcher's retry sends it.
      expect((await send(message(chatId, 'n-5'))).status).toBe(200);
      expect(telegram.sentTo(chatId)).toHaveLength(1);
    });

    it('refuses a missing or wrong token, a bad body and another parse mode', async () => {
      const chatId = nextChat();
      expect((await send(message(chatId, 'n-6'), '')).status).toBe(401);
      expect((await send(message(chatId, 'n-6'), `${DISPATCH_TOKEN}x`)).status).toBe(401);
      const markdown = await send({ ...message(chatId, 'n-6'), parse_mode: 'MarkdownV2' });
      expect(markdown.status).toBe(400);
      expect(markdown.body).toEqual({ ok: false, error: 'bad_request' });
      expect((await send({ ...message(chatId, 'n-6'), chat_id: '12' })).status).toBe(400);
      expect((await send({ ...message(chatId, 'n-6'), text: 'x'.repeat(4097) })).status).toBe(400);
      const tooLarge = await send({ ...message(chatId, 'n-6'), text: 'x'.repeat(70 * 1024) });
      expect(tooLarge.status).toBe(413);
      expect(telegram.sentTo(chatId)).toEqual([]);
    });

    it('answers /health', async () => {
      const response = await call({ url: dispatch.url }, 'GET', '/health');
      expect(response.body).toEqual({ status: 'ok' });
    });
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { FakeTelegram } from '../fakes/telegram.js';
import { freePort } from '../support/ports.js';
import {
  type ChildRun,
  hostEnv,
  killIfRunning,
  runAgnes,
  spawnAgnes,
  until,
  within,
} from '../support/processes.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../support/server.js';

const BOT_TOKEN = '987654:process-test-bot-token-ABCDEFGH';
const DISPATCH_TOKEN = 'process-dispatch-token-0123456789abcdef';

/** `agnes telegram-bot` as its own process against the fake Bot API and the real app (08 §0, §2). */
describe('agnes telegram-bot', () => {
  let dir: string;
  let server: TestServer;
  let service: TestUser;
  let telegram: FakeTelegram;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'agnes-telegram-bot-'));
    server = await withServer();
    service = await createUser(server.ctx, 'viewer', { service: true });
    telegram = await FakeTelegram.start(BOT_TOKEN);
  });
  afterAll(async () => {
    await telegram?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string>) =>
    hostEnv({
      AGNES_API_URL: server.url,
      AGNES_TOKEN: service.pat,
      AGNES_CONFIG: join(dir, 'bot.yaml'),
      DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'info',
      ...extra,
    });

  it('refuses to start without telegram.bot_token, naming the key', async () => {
    await writeFile(join(dir, 'bot.yaml'), stringify({ telegram: { api_root: telegram.url } }));
    const result = await runAgnes(['telegram-bot'], { cwd: dir, env: env({}), killAfterMs: 15_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('telegram.bot_token');
  });

  it('exits 1 when Telegram refuses the token, without printing it', async () => {
    await writeFile(join(dir, 'bot.yaml'), stringify({ telegram: { api_root: telegram.url } }));
    const result = await runAgnes(['telegram-bot'], {
      cwd: dir,
      env: env({ TELEGRAM_BOT_TOKEN: '1:not-the-right-token' }),
      killAfterMs: 15_000,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('agnes: Telegram refused telegram.bot_token (401)\n');
    expect(`${result.stdout}${result.stderr}`).not.toContain('not-the-right-token');
  });

  it('starts no dispatch endpoint without AGNES_DISPATCH_TOKEN', async () => {
    const port = await freePort();
    await writeFile(
      join(dir, 'bot.yaml'),
      stringify({ telegram: { api_root: telegram.url, listen_port: port } }),
    );
    const bot = spawnAgnes(['telegram-bot'], { cwd: dir, env: env({ TELEGRAM_BOT_TOKEN: BOT_TOKEN }) });
    try {
      await bot.waitForOutput('stdout', /"msg":"telegram bot started without a dispatch endpoint/, 15_000);
      await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
      bot.child.kill('SIGTERM');
      expect((await within(bot.exited, 10_000, 'exit after SIGTERM')).code).toBe(0);
    } finally {
      await killIfRunning(bot);
    }
  });

  describe('running', () => {
    let bot: ChildRun;
    let dispatchUrl: string;

    beforeAll(async () => {
      const port = await freePort();
      dispatchUrl = `http://127.0.0.1:${port}`;
      await writeFile(
        join(dir, 'bot.yaml'),
        stringify({ telegram: { api_root: telegram.url, listen_port: port, code_ttl_minutes: 7 } }),
      );
      bot = spawnAgnes(['telegram-bot'], {
        cwd: dir,
        env: env({ TELEGRAM_BOT_TOKEN: BOT_TOKEN, AGNES_DISPATCH_TOKEN: DISPATCH_TOKEN }),
      });
      await bot.waitForOutput('stdout', /"msg":"telegram bot started"/, 15_000);
    });
    afterAll(async () => {
      if (bot) await killIfRunning(bot);
    });

    it('answers a chat, delivers through /send, and exits 0 on SIGTERM having confirmed its updates', async () => {
      const lastUpdate = telegram.pushMessage(77, '/start');
      const reply = await until(async () => telegram.sentTo(77)[0], 'the /start reply', 15_000);
      expect(reply.text).toContain('valid for 7 minutes');

      const sent = await call({ url: dispatchUrl }, 'POST', '/send', {
        auth: `Bearer ${DISPATCH_TOKEN}`,
        body: { chat_id: 77, text: '<b>hush</b> message body', parse_mode: 'HTML', notification_id: 'p-1' },
      });
      expect(sent.status).toBe(200);
      expect(telegram.sentTo(77).map((m) => m.text)).toContain('<b>hush</b> message body');

      const started = Date.now();
      bot.child.kill('SIGTERM');
      const exit = await within(bot.exited, 10_000, 'exit after SIGTERM');
      expect(exit.code).toBe(0);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(telegram.confirmedOffset).toBe(lastUpdate + 1);

      // One JSON object per line, none holding the bot token, the dispatch token or message text.
      const lines = bot.stdout.split('\n').filter(Boolean);
      expect(lines.length).toBeGreaterThan(2);
      for (const line of lines) {
        expect(() => JSON.parse(line)).not.toThrow();
        expect(line).not.toContain(BOT_TOKEN);
        expect(line).not.toContain(DISPATCH_TOKEN);
        expect(line).not.toContain('hush');
        expect(line).not.toContain('link code');
      }
      expect(lines.map((line) => JSON.parse(line).msg)).toContain('telegram bot stopped');
    }, 40_000);
  });
});

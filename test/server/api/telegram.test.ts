import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/state/repositories/fresh-store.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { type Shop, setupShop } from '../../support/shop.js';

const CODE = /^[ABCDEFGHJKLMNPQRSTUVWXYZ23456789]{8}$/;

/** Telegram linking through the real app (03 §19, 08 §2, §9). */
describe('/api/telegram', () => {
  const clock = new ManualClock(new Date().toISOString());
  let server: TestServer;
  let shop: Shop;
  let bot: TestUser;
  let chatCounter = 1000;
  const nextChat = () => {
    chatCounter += 1;
    return chatCounter;
  };

  beforeAll(async () => {
    server = await withServer({
      clock,
      config: { telegram: { bot_username: 'AgnesTestBot', code_ttl_minutes: 10 } },
    });
    shop = await setupShop(server);
    bot = await createUser(server.ctx, 'viewer', { service: true });
  });
  afterAll(async () => server.close());

  const codeFor = async (chatId: number, username?: string) => {
    const response = await call(server, 'POST', '/api/telegram/codes', {
      auth: bot.auth,
      body: { chat_id: chatId, ...(username ? { telegram_username: username } : {}) },
    });
    expect(response.status).toBe(201);
    return response.body as { code: string; expires_at: string };
  };
  const verify = (user: TestUser, code: string) =>
    call(server, 'POST', '/api/telegram/verify', { auth: user.auth, body: { code } });

  it('issues an 8-character code valid for the configured minutes and stores only its hash', async () => {
    const chatId = nextChat();
    const issued = await codeFor(chatId, 'alice_tg');
    expect(issued.code).toMatch(CODE);
    expect(Date.parse(issued.expires_at) - clock.now().getTime()).toBe(10 * 60_000);
    const rows = await server.ctx.db
      .selectFrom('pending_codes')
      .selectAll()
      .where('chat_id', '=', chatId)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.code).toBe(createHash('sha256').update(issued.code).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(issued.code);
  });

  it('draws codes from the whole alphabet, not a fixed few', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 20; i += 1) codes.add((await codeFor(nextChat())).code);
    expect(codes.size).toBe(20);
  });

  it('links the caller once per code, then the same code is invalid', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const chatId = nextChat();
    const { code } = await codeFor(chatId, 'bob_tg');
    // Codes are retyped by people: lower case and spaces are forgiven.
    const linked = await verify(user, ` ${code.slice(0, 4).toLowerCase()} ${code.slice(4)} `);
    expect(linked.status).toBe(200);
    expect(linked.body).toEqual({ status: 'linked', chat_id: chatId });
    const status = await call(server, 'GET', '/api/telegram/status', { auth: user.auth });
    expect(status.body).toMatchObject({ linked: true, chat_id: chatId, bot_username: 'AgnesTestBot' });
    expect(Date.parse(status.body.linked_at)).toBe(clock.now().getTime());

    const again = await verify(user, code);
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('invalid_code');
  });

  it('refuses an expired code and a code that is no code at all with 400 invalid_code', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const { code } = await codeFor(nextChat());
    clock.advance(10 * 60_000 + 1);
    const expired = await verify(user, code);
    expect(expired.status).toBe(400);
    expect(expired.body.code).toBe('invalid_code');
    const garbage = await verify(user, '0000-OOOO');
    expect(garbage.status).toBe(400);
    expect(garbage.body.code).toBe('invalid_code');
    const status = await call(server, 'GET', '/api/telegram/status', { auth: user.auth });
    expect(status.body).toEqual({ linked: false, bot_username: 'AgnesTestBot' });
    // Expired codes go when the next code is made.
    await codeFor(nextChat());
    const stale = await server.ctx.db
      .selectFrom('pending_codes')
      .select('chat_id')
      .where('expires_at', '<=', clock.now().toISOString())
      .execute();
    expect(stale).toEqual([]);
  });

  it('invalidates the earlier codes of a chat when it asks for a new one', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const chatId = nextChat();
    const first = await codeFor(chatId);
    const second = await codeFor(chatId);
    expect((await verify(user, first.code)).body.code).toBe('invalid_code');
    expect((await verify(user, second.code)).status).toBe(200);
  });

  it('answers a linked chat asking for a code with 409 already_linked naming the account', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const chatId = nextChat();
    await verify(user, (await codeFor(chatId)).code);
    const response = await call(server, 'POST', '/api/telegram/codes', {
      auth: bot.auth,
      body: { chat_id: chatId },
    });
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ code: 'already_linked', user_email: user.email });
  });

  it('re-links a linked user to the new chat, ending the old link', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const oldChat = nextChat();
    const newChat = nextChat();
    await verify(user, (await codeFor(oldChat)).code);
    const relinked = await verify(user, (await codeFor(newChat)).code);
    expect(relinked.body).toEqual({ status: 'linked', chat_id: newChat });
    expect(await server.ctx.repos.telegram.getByChat(oldChat)).toBeUndefined();
    // The old chat is free again: it can ask for a code.
    expect((await codeFor(oldChat)).code).toMatch(CODE);
  });

  it('refuses to take over a chat linked to another account with 409 chat_linked_elsewhere', async () => {
    const [owner, intruder] = await Promise.all([
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'analyst'),
    ]);
    const chatId = nextChat();
    // A code issued before the chat was linked by someone else (a race the store must still settle).
    await server.ctx.repos.telegram.createCode({
      code: createHash('sha256').update('RACECAR2').digest('hex'),
      chat_id: chatId,
      expires_at: new Date(clock.now().getTime() + 60_000).toISOString(),
    });
    await server.ctx.repos.telegram.link(owner.id, chatId, null);
    const response = await verify(intruder, 'RACECAR2');
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('chat_linked_elsewhere');
    expect((await server.ctx.repos.telegram.getByChat(chatId))?.user_id).toBe(owner.id);
  });

  it('unlinks, reporting whether there was a link, and audits link and unlink without the code', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const chatId = nextChat();
    const { code } = await codeFor(chatId);
    await verify(user, code);
    const first = await call(server, 'POST', '/api/telegram/unlink', { auth: user.auth });
    expect(first.body).toEqual({ status: 'unlinked', was_linked: true });
    const second = await call(server, 'POST', '/api/telegram/unlink', { auth: user.auth });
    expect(second.body).toEqual({ status: 'unlinked', was_linked: false });
    expect(await server.ctx.repos.telegram.getByUser(user.id)).toBeUndefined();

    const entries = await server.ctx.repos.audit.list({ user_id: user.id }, { page: 1, per_page: 50 });
    const actions = entries.items.map((e) => `${e.action} ${e.resource} ${e.result}`).sort();
    expect(actions).toEqual([
      `telegram.link ${chatId} ok`,
      `telegram.unlink ${chatId} ok`,
      'telegram.unlink null ok',
    ]);
    expect(JSON.stringify(entries.items)).not.toContain(code);
  });

  it('limits verification attempts per user: the sixth in ten minutes is 429', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const other = await createUser(server.ctx, 'analyst');
    for (let i = 0; i < 5; i += 1) expect((await verify(user, 'AAAAAAAA')).status).toBe(400);
    const limited = await verify(user, (await codeFor(nextChat())).code);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // The limit is the user's own: another account still verifies.
    expect((await verify(other, 'AAAAAAAA')).status).toBe(400);
  });

  it("summarises a linked chat with its account's counts, read with that account's rights", async () => {
    const chatId = nextChat();
    await verify(shop.analyst, (await codeFor(chatId)).code);
    const { repos } = server.ctx;
    await repos.alerts.create({
      owner_id: shop.analyst.id,
      name: 'big orders',
      sql: 'SELECT 1',
      condition: { type: 'row_count', op: '>', threshold: 0 },
      message_template: 'x',
      schedule: 'every 1h',
      channels: ['telegram'],
    });
    await repos.alerts.create({
      owner_id: shop.analyst.id,
      name: 'paused',
      sql: 'SELECT 1',
      condition: { type: 'row_count', op: '>', threshold: 0 },
      message_template: 'x',
      schedule: 'every 1h',
      channels: [],
      enabled: false,
    });
    await repos.notifications.create(
      ['one', 'two'].map((title) => ({
        user_id: shop.analyst.id,
        title,
        message: title,
        source_kind: 'system' as const,
        telegram_status: 'skipped' as const,
        ws_status: 'skipped' as const,
      })),
    );
    const orders = await repos.syncState.getState('orders');
    const response = await call(server, 'GET', `/api/telegram/chats/${chatId}`, { auth: bot.auth });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      linked: true,
      user: { id: shop.analyst.id, email: shop.analyst.email, name: expect.any(String) },
      readable_tables: 1,
      last_data_update: orders?.last_sync,
      active_alerts: 1,
      unread_notifications: 2,
    });
    expect(orders?.last_sync).toBeTruthy();

    const unknown = await call(server, 'GET', '/api/telegram/chats/-42', { auth: bot.auth });
    expect(unknown.body).toEqual({
      linked: false,
      user: null,
      readable_tables: 0,
      last_data_update: null,
      active_alerts: 0,
      unread_notifications: 0,
    });
  });

  it('keeps the bot routes for service accounts: a person, even an admin, gets 403', async () => {
    for (const path of ['/api/telegram/chats/1']) {
      const response = await call(server, 'GET', path, { auth: shop.admin.auth });
      expect(response.status).toBe(403);
    }
    const codes = await call(server, 'POST', '/api/telegram/codes', {
      auth: shop.admin.auth,
      body: { chat_id: 5 },
    });
    expect(codes.status).toBe(403);
  });
});

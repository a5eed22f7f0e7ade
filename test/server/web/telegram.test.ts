import { describe, expect, it } from 'vitest';
import { call, createUser } from '../../support/server.js';
import { browserSuite, checkPage, eventually, newPage, signIn, submitAndReload } from './browser.js';

/** The Telegram part of /account (09 `/account`): status, bot link, code entry and unlink. */
describe('web UI: Telegram on the account page', () => {
  const suite = browserSuite(async () => ({ config: { telegram: { bot_username: 'AgnesTestBot' } } }));

  it('links with a code from the bot, shows the link, and unlinks', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    const bot = await createUser(suite.server.ctx, 'viewer', { service: true });
    await signIn(tracked, suite.shop.analyst);
    await page.goto('/account');
    const card = page.locator('section', { has: page.getByRole('heading', { name: 'Telegram' }) });
    expect(await card.textContent()).toContain('not linked');
    expect(await card.getByRole('link', { name: '@AgnesTestBot' }).getAttribute('href')).toBe(
      'https://t.me/AgnesTestBot',
    );
    await checkPage(tracked, 'account-telegram-unlinked');

    await page.getByLabel('Link code').fill('WRONGCDE');
    await page.getByRole('button', { name: 'Link', exact: true }).click();
    await eventually(() => card.textContent()).toContain('invalid_code');
    // The browser reports the refused request as a console error; nothing else may appear.
    expect(tracked.problems.splice(0)).toEqual([expect.stringContaining('400')]);

    const issued = await call(suite.server, 'POST', '/api/telegram/codes', {
      auth: bot.auth,
      body: { chat_id: 31337, telegram_username: 'analyst_tg' },
    });
    expect(issued.status).toBe(201);
    await page.getByLabel('Link code').fill(issued.body.code.toLowerCase());
    await submitAndReload(page, () => page.getByRole('button', { name: 'Link', exact: true }).click());
    await eventually(() => card.textContent()).toContain('linked');
    expect(await card.textContent()).not.toContain('not linked');
    expect((await suite.server.ctx.repos.telegram.getByUser(suite.shop.analyst.id))?.chat_id).toBe(31337);
    await checkPage(tracked, 'account-telegram-linked');

    await submitAndReload(page, () => page.getByRole('button', { name: 'Unlink Telegram' }).click());
    await eventually(() => card.textContent()).toContain('not linked');
    expect(await suite.server.ctx.repos.telegram.getByUser(suite.shop.analyst.id)).toBeUndefined();
    await tracked.context.close();
  });
});

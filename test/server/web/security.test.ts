import { afterAll, describe, expect, it } from 'vitest';
import { generatePat } from '../../../src/server/auth/pat.js';
import { type FakeSmtp, startFakeSmtp } from '../../fakes/smtp.js';
import { call } from '../../support/server.js';
import { browserSuite, checkPage, HOSTILE, newPage, signIn } from './browser.js';

/**
 * Browser-side security (10 §3 S7, S13) and the magic-link sign-in with the mail read from a real
 * SMTP server on loopback (09 §5 scenario 3).
 */
describe('web UI: security and magic links', () => {
  let smtp: FakeSmtp;
  const suite = browserSuite(async () => {
    smtp = await startFakeSmtp();
    return {
      config: {
        theme: { primary: '#aa3300' },
        email: {
          from: 'Agnes <no-reply@agnes.test>',
          smtp: { host: '127.0.0.1', port: smtp.port, secure: false, require_starttls: false },
        },
      },
    };
  });
  afterAll(async () => smtp?.close());

  it('signs in with an emailed link: request, mail, landing page, button, dashboard', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await page.goto('/login');
    await page.getByLabel('Email', { exact: true }).last().fill(suite.shop.analyst.email);
    await page.getByRole('button', { name: 'Email me a link' }).click();
    await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('sent') === '1');
    expect(await page.getByRole('status').first().textContent()).toContain('Check your inbox');
    const mail = await smtp.waitFor((m) => m.to.includes(suite.shop.analyst.email));
    const link = new URL(/https?:\/\/\S+token=[A-Za-z0-9_-]+/.exec(mail.text)?.[0] ?? '');
    await page.goto(`${link.pathname}${link.search}`);
    await checkPage(tracked, 'magic-link-landing');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/dashboard');
    expect(await page.locator('h1').textContent()).toContain('Welcome');
    await tracked.context.close();
  });

  it('renders the anonymous pages in the theme, and unknown paths as the 404 page', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page } = tracked;
    await page.goto('/login');
    const colour = await page
      .getByRole('button', { name: 'Sign in' })
      .evaluate((button) => getComputedStyle(button).backgroundColor);
    expect(colour).toBe('rgb(170, 51, 0)');
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await checkPage(tracked, 'forgot-password');
    await page.getByLabel('Email').fill(suite.shop.analyst.email);
    await page.getByLabel('Email').press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.searchParams.get('reset_requested') === '1');
    expect(await page.getByRole('status').first().textContent()).toContain('password reset link');
    await page.goto('/auth/password/setup?token=unknown');
    await checkPage(tracked, 'password-setup');
    await page.goto('/auth/password/reset?token=unknown');
    await checkPage(tracked, 'password-reset');
    const missing = await page.goto('/no/such/page');
    expect(missing?.status()).toBe(404);
    expect(await page.locator('h1').textContent()).toBe('Page not found');
    expect(tracked.problems.splice(0)).toEqual([expect.stringContaining('404')]);
    await checkPage(tracked, 'not-found');
    await tracked.context.close();
  });

  it('accepts an Origin of null only when the browser marks the post same-origin', async () => {
    const landing = await fetch(`${suite.server.url}/auth/email/verify?token=x`);
    const csrf = /agnes_csrf=([^;]+)/.exec(landing.headers.get('set-cookie') ?? '')?.[1] ?? '';
    const post = (site: string) =>
      call(suite.server, 'POST', '/auth/email/verify', {
        headers: {
          cookie: `agnes_csrf=${csrf}`,
          origin: 'null',
          'sec-fetch-site': site,
          accept: 'application/json',
        },
        form: { _csrf: csrf, token: 'not-a-real-token' },
      });
    expect((await post('cross-site')).body).toMatchObject({ code: 'csrf_failed' });
    // Past the CSRF check, the unknown link sends the form back to sign in.
    expect((await post('same-origin')).status).toBe(303);
  });

  it('S7: forms need the CSRF token, foreign next targets are refused, cookies carry their flags', async () => {
    const tracked = await newPage(suite.browser, suite.server);
    const { page, context } = tracked;
    await page.goto('/login');
    await page.locator('form[action="/auth/password/login"] input[name=_csrf]').evaluate((input) => {
      (input as HTMLInputElement).value = 'forged.token';
    });
    await page.getByLabel('Email', { exact: true }).first().fill(suite.shop.analyst.email);
    await page.getByLabel('Password', { exact: true }).fill(suite.shop.analyst.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/auth/password/login');
    expect(await page.locator('h1').textContent()).toBe('Access denied');
    expect(await page.locator('main').textContent()).toContain('The form had expired');
    expect(tracked.problems.splice(0)).toEqual([expect.stringContaining('403')]);

    for (const next of [
      '//evil.example/x',
      '/\\evil.example',
      'https://evil.example/x',
      '/%2F%2Fevil.example',
    ]) {
      await page.goto(`/login?next=${encodeURIComponent(next)}`);
      await signIn(tracked, suite.shop.analyst, page.url());
      const landed = new URL(page.url());
      expect(landed.origin, next).toBe(suite.server.url);
      expect(landed.pathname, next).toBe('/dashboard');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL('**/login');
    }

    await signIn(tracked, suite.shop.analyst);
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'access_token')).toMatchObject({
      httpOnly: true,
      sameSite: 'Lax',
      secure: false,
    });
    expect(cookies.find((c) => c.name === 'agnes_csrf')).toMatchObject({
      httpOnly: false,
      sameSite: 'Strict',
    });
    expect(await page.evaluate(() => document.cookie)).not.toContain('access_token');
    const withoutToken = await page.evaluate(async () => {
      const response = await fetch('/api/tokens', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'no csrf' }),
      });
      return { status: response.status, body: await response.json() };
    });
    expect(withoutToken).toMatchObject({ status: 403, body: { code: 'csrf_failed' } });
    tracked.problems.splice(0);
    await tracked.context.close();
  });

  it('S13: hostile text in every user- and admin-controlled field renders as text on every page', async () => {
    const { repos } = suite.server.ctx;
    await repos.users.update(suite.shop.analyst.id, { name: `Ana ${HOSTILE}` });
    await repos.users.update(suite.shop.admin.id, { name: `Admin ${HOSTILE}` });
    const group = await repos.groups.create({ name: `G ${HOSTILE}`, description: `D ${HOSTILE}` });
    await repos.groups.addMember(group.id, suite.shop.analyst.id, suite.shop.admin.id);
    await repos.registry.update('orders', { description: `Orders ${HOSTILE}` });
    await repos.registry.update('customers', { description: `Customers ${HOSTILE}` });
    await repos.accessRequests.create({
      user_id: suite.shop.analyst.id,
      user_email: suite.shop.analyst.email,
      table_id: 'customers',
      reason: `Reason ${HOSTILE}`,
    });
    for (const user of [suite.shop.analyst, suite.shop.admin]) {
      const pat = generatePat();
      await repos.tokens.create({
        user_id: user.id,
        name: `T ${HOSTILE}`,
        token_hash: pat.hash,
        prefix: pat.prefix,
        expires_at: null,
      });
    }

    const visit = async (who: 'analyst' | 'admin', paths: string[]) => {
      const tracked = await newPage(suite.browser, suite.server);
      const { page } = tracked;
      await signIn(tracked, suite.shop[who]);
      for (const path of paths) {
        await page.goto(path);
        const text = (await page.locator('main').textContent()) ?? '';
        expect(text, `${who} ${path}`).toContain(HOSTILE);
        expect(await page.locator('main img').count(), `${who} ${path}`).toBe(0);
        expect(tracked.problems, `${who} ${path}`).toEqual([]);
      }
      await page.goto('/catalog/orders');
      await checkPage(tracked, `hostile-${who}-table`);
      await tracked.context.close();
    };
    await visit('analyst', [
      '/dashboard',
      '/catalog',
      '/catalog/orders',
      '/catalog/customers',
      '/access-requests',
      '/account',
    ]);
    await visit('admin', [
      '/dashboard',
      '/access-requests',
      '/account',
      '/admin/users',
      '/admin/groups',
      `/admin/groups/${group.id}`,
      '/admin/tables',
    ]);
  });
});

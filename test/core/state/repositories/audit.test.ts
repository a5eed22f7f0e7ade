import { describe, expect, it } from 'vitest';
import { DAY, MINUTE, useFreshStore } from './fresh-store.js';

describe('audit repository', () => {
  const store = useFreshStore();

  it('appends entries with redacted params as JSON, and null params as null', async () => {
    const { repos, clock } = store();
    const params = { email: 'a@x.io', password: '[redacted]', row_count: 3, nested: { ok: true } };

    const entry = await repos.audit.append({
      user_id: null,
      action: 'auth.login_failed',
      result: 'denied',
      params,
      status_code: 401,
      client: 'web',
    });
    const bare = await repos.audit.append({ user_id: 'u1', action: 'auth.logout', result: 'ok' });

    expect(entry).toMatchObject({
      timestamp: clock.iso(),
      params,
      status_code: 401,
      client: 'web',
      resource: null,
    });
    expect(bare.params).toBeNull();
    expect((await repos.audit.list()).items.map((e) => e.params)).toContainEqual(params);
  });

  it('lists newest first with paging and user, action, resource and time filters', async () => {
    const { repos, clock } = store();
    const start = clock.iso();
    await repos.audit.append({ user_id: 'u1', action: 'group.create', resource: 'g1', result: 'ok' });
    clock.advance(MINUTE);
    await repos.audit.append({ user_id: 'u2', action: 'group.delete', resource: 'g1', result: 'ok' });
    clock.advance(MINUTE);
    const middle = clock.iso();
    await repos.audit.append({ user_id: 'u1', action: 'query.execute', result: 'error' });

    const page = await repos.audit.list({}, { page: 1, per_page: 2 });
    const u1 = await repos.audit.list({ user_id: 'u1' });
    const exact = await repos.audit.list({ action: 'group.create' });
    const resource = await repos.audit.list({ resource: 'g1' });
    const window = await repos.audit.list({ from: start, to: middle });

    expect(page.total).toBe(3);
    expect(page.items.map((e) => e.action)).toEqual(['query.execute', 'group.delete']);
    expect(u1.items.map((e) => e.action)).toEqual(['query.execute', 'group.create']);
    expect(exact.total).toBe(1);
    expect(resource.total).toBe(2);
    expect(window.items.map((e) => e.action)).toEqual(['group.delete', 'group.create']);
  });

  it('matches an action prefix literally: `_` is not a wildcard', async () => {
    const { repos } = store();
    await repos.audit.append({ action: 'access_request.create', result: 'ok' });
    await repos.audit.append({ action: 'accessXrequest.create', result: 'ok' });
    await repos.audit.append({ action: 'auth.login', result: 'ok' });

    const prefixed = await repos.audit.list({ action_prefix: 'access_request.' });

    expect(prefixed.items.map((e) => e.action)).toEqual(['access_request.create']);
  });

  it('prunes entries older than the retention period', async () => {
    const { repos, clock } = store();
    await repos.audit.append({ action: 'old', result: 'ok' });
    clock.advance(400 * DAY);
    await repos.audit.append({ action: 'recent', result: 'ok' });

    expect(await repos.audit.pruneOlderThan(365)).toBe(1);
    expect((await repos.audit.list()).items.map((e) => e.action)).toEqual(['recent']);
  });
});

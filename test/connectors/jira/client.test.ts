import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isOnHost, JiraClient, JiraError, utcOrNull } from '../../../src/connectors/jira/client.js';
import { FakeJira } from '../../fakes/jira.js';

/** The REST client (07 §5.2) against the fake Jira Cloud: paging, Basic auth, failures as codes. */

let fake: FakeJira;
let client: JiraClient;
const FAST = { retryDelayMs: 5, requestTimeoutMs: 500, retries: 2, maxRetryAfterMs: 500 };

beforeEach(async () => {
  fake = await FakeJira.start();
  client = new JiraClient(
    { baseUrl: fake.url, email: fake.account.email, apiToken: fake.account.token },
    FAST,
  );
});
afterEach(async () => fake.close());

async function failure(promise: Promise<unknown>): Promise<JiraError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof JiraError) return error;
    throw error;
  }
  throw new Error('no failure');
}

describe('JiraClient', () => {
  it('reads every page of changelog and comments, and pages search by nextPageToken', async () => {
    fake.addIssue({ key: 'SUP-1', changes: 250, comments: 205 });
    for (let i = 2; i <= 230; i++)
      fake.addIssue({ key: `SUP-${i}`, updated: new Date(Date.now() - 86_400_000).toISOString() });
    expect(await client.changelog('SUP-1')).toHaveLength(250);
    expect(await client.comments('SUP-1')).toHaveLength(205);
    const hits = await client.search('updated >= -30d AND updated <= -5m');
    expect(hits).toHaveLength(229);
    expect(fake.requests.filter((r) => r.path === '/rest/api/3/search/jql')).toHaveLength(3);
    expect(fake.requests.every((r) => r.account === fake.account.email)).toBe(true);
  });

  it('turns 401, 404, 429 (with Retry-After) and timeouts into codes, after retrying what may pass', async () => {
    fake.addIssue({ key: 'SUP-1' });
    const wrong = new JiraClient({ baseUrl: fake.url, email: fake.account.email, apiToken: 'wrong' }, FAST);
    expect((await failure(wrong.issue('SUP-1'))).code).toBe('auth_failed');
    expect((await failure(client.issue('SUP-404'))).code).toBe('not_found');
    fake.faults.push({ match: /issue\/SUP-1\?/, status: 429, retryAfter: '7', times: 3 });
    const limited = await failure(client.issue('SUP-1'));
    expect(limited.code).toBe('rate_limited');
    expect(limited.retryAfterMs).toBe(500);
    fake.faults.push({ match: /issue\/SUP-1\?/, status: 500, times: 2 });
    expect((await client.issue('SUP-1')).key).toBe('SUP-1');
    fake.faults.push({ match: /issue\/SUP-1\?/, delayMs: 2000, times: 3 });
    expect((await failure(client.issue('SUP-1'))).code).toBe('timeout');
    // A body cut off once is fetched again; cut off every time, it is a failure, not data.
    fake.faults.push({ match: /issue\/SUP-1\/remotelink/, truncate: true, times: 1 });
    expect(await client.remoteLinks('SUP-1')).toHaveLength(1);
    fake.faults.push({ match: /issue\/SUP-1\/remotelink/, truncate: true, times: 3 });
    expect(['invalid_response', 'upstream_failed']).toContain(
      (await failure(client.remoteLinks('SUP-1'))).code,
    );
  });

  it('never puts a key or id that is not one into a path', async () => {
    expect((await failure(client.issue('../../admin'))).code).toBe('not_found');
    expect((await failure(client.issue('SUP-1?x=1'))).code).toBe('not_found');
    expect(fake.requests).toEqual([]);
  });

  it('follows attachment URLs only on the configured host and port', () => {
    expect(isOnHost(`${fake.url}/rest/api/3/attachment/content/1`, fake.url)).toBe(true);
    expect(isOnHost('https://acme.atlassian.net/x', 'https://acme.atlassian.net:443')).toBe(true);
    expect(isOnHost('http://127.0.0.1:1/x', fake.url)).toBe(false);
    expect(isOnHost(`${fake.url.replace('http:', 'https:')}/x`, fake.url)).toBe(false);
    expect(isOnHost(`http://user:pw@${new URL(fake.url).host}/x`, fake.url)).toBe(false);
    expect(isOnHost('not a url', fake.url)).toBe(false);
    expect(isOnHost(42, fake.url)).toBe(false);
  });

  it('reads Jira times with a colon-less offset as UTC', () => {
    expect(utcOrNull('2024-03-31T23:30:00.000-0200')).toBe('2024-04-01T01:30:00.000Z');
    expect(utcOrNull('2024-03-31T23:30:00.000+05:30')).toBe('2024-03-31T18:00:00.000Z');
    expect(utcOrNull('garbage')).toBeNull();
    expect(utcOrNull(null)).toBeNull();
  });
});

import { readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PushSource } from '../../../src/core/extract/push.js';
import { adf, FakeJira, issueEvent, linkEvent, sendWebhook, user } from '../../fakes/jira.js';
import {
  eventually,
  inboxEmpty,
  jiraFiles,
  shardNames,
  shardRows,
  startJiraServer,
  WEBHOOK_SECRET,
} from '../../support/jira.js';
import type { TestServer } from '../../support/server.js';

/**
 * The worker (07 §5.2, §5.3, §5.7) inside the real app: webhooks in, the six tables out as
 * monthly shards. Events are sent signed, as Jira sends them; shards are read straight from disk.
 */

let fake: FakeJira;
let server: TestServer;
let jira: PushSource;

async function start(extra: Record<string, unknown> = {}, options: { sla?: boolean } = {}): Promise<void> {
  ({ server, jira } = await startJiraServer(fake, { extra, ...options }));
}

beforeEach(async () => {
  fake = await FakeJira.start();
});
afterEach(async () => {
  await server?.close();
  await fake.close();
});

async function send(payload: unknown): Promise<void> {
  const answer = await sendWebhook(server.url, payload, { secret: WEBHOOK_SECRET });
  expect(answer.status, answer.text).toBe(200);
}

const settled = () => inboxEmpty(jira);

const issueGets = (key: string) =>
  fake.requests.filter((r) => r.path.startsWith(`/rest/api/3/issue/${key}?`)).length;

describe('the six tables', () => {
  it('writes every table with complete changelog and comments (over 100 each), UTC months', async () => {
    await start();
    fake.addIssue({
      key: 'SUP-1',
      changes: 150,
      comments: 130,
      remoteLinks: 2,
      created: '2024-03-31T23:30:00.000-0200',
      attachments: [
        {
          id: '5001',
          filename: 'log.txt',
          size: 12,
          mimeType: 'text/plain',
          author: user('Bob'),
          created: '2024-04-01T10:00:00.000+0000',
          content: `${fake.url}/rest/api/3/attachment/content/5001`,
        },
      ],
      issuelinks: [
        {
          id: '9001',
          type: { name: 'Blocks' },
          outwardIssue: {
            key: 'SUP-2',
            fields: { summary: 'Other', status: { name: 'Open' }, priority: { name: 'Low' } },
          },
        },
      ],
    });
    await send(issueEvent('jira:issue_created', fake.issues.get('SUP-1')!));
    await settled();

    // created 2024-03-31T23:30-02:00 is 2024-04-01T01:30Z: April (07 §5.6).
    for (const entity of ['issues', 'comments', 'attachments', 'changelog', 'issuelinks', 'remote_links'])
      expect(await shardNames(server.dataDir, entity), entity).toEqual(['2024-04.parquet']);
    const [issue] = await shardRows(server.dataDir, 'issues');
    expect(issue).toMatchObject({
      issue_key: 'SUP-1',
      issue_id: fake.issues.get('SUP-1')!.id,
      issue_url: `${fake.url}/browse/SUP-1`,
      summary: 'Summary of SUP-1',
      description: 'Description of SUP-1\nSecond line',
      status: 'Open',
      status_category: 'To Do',
      creator_email: 'carol@example.com',
      assignee_name: 'Dave',
      labels: ['vip'],
      attachment_count: 1n,
      comment_count: 130n,
      issuelink_count: 1n,
      severity: 'S2',
      triage: ['Bug', 'Urgent'],
      participants: ['eve@example.com'],
      satisfaction: 4n,
      request_type: 'Get help',
      request_status: 'Waiting',
      _raw_file: 'issues/SUP-1.json',
    });
    expect((issue!.created_at as Date).toISOString()).toBe('2024-04-01T01:30:00.000Z');
    expect(await shardRows(server.dataDir, 'comments', 'comment_id')).toHaveLength(130);
    const changes = await shardRows(server.dataDir, 'changelog', 'change_id, item_index');
    // 150 histories, the first with two items.
    expect(changes).toHaveLength(151);
    expect(new Set(changes.map((c) => `${c.change_id}/${c.item_index}`)).size).toBe(151);
    expect(changes[0]).toMatchObject({
      item_index: 0n,
      field_name: 'status',
      from_value: 'Open',
      to_value: 'Step 0',
    });
    expect(await shardRows(server.dataDir, 'issuelinks')).toEqual([
      expect.objectContaining({
        link_id: '9001',
        direction: 'outward',
        linked_issue_key: 'SUP-2',
        linked_issue_status: 'Open',
      }),
    ]);
    expect(await shardRows(server.dataDir, 'remote_links', 'remote_link_id')).toHaveLength(2);
    expect(await shardRows(server.dataDir, 'attachments')).toEqual([
      expect.objectContaining({ attachment_id: '5001', filename: 'log.txt', local_path: null }),
    ]);
    // The raw document holds the whole history the tables came from.
    const raw = JSON.parse(
      await readFile(join(server.dataDir, 'jira', 'raw', 'issues', 'SUP-1.json'), 'utf8'),
    );
    expect(raw._changelog).toHaveLength(150);
    expect(raw._comments).toHaveLength(130);
    // Processed events leave the inbox for raw/events/<day>/.
    const days = await jiraFiles(server.dataDir, 'raw/events');
    expect(days).toHaveLength(1);
  });

  it('publishes the tables: rebuildSource makes them queryable', async () => {
    await start();
    fake.addIssue({ key: 'SUP-7' });
    await send(issueEvent('jira:issue_created', fake.issues.get('SUP-7')!));
    await settled();
    await eventually(async () => {
      const states = await server.ctx.repos.syncState.listStates({ source: 'jira' });
      return states.some((s) => s.table_id === 'issues' && s.rows === 1);
    });
  });
});

describe('ordering, duplicates and deletes (07 §5.7)', () => {
  it('coalesces a burst per issue into one fetch, and replays produce no duplicate rows', async () => {
    await start();
    const issue = fake.addIssue({ key: 'SUP-1' });
    const event = issueEvent('jira:issue_updated', issue);
    // The first fetch is slow, so the rest of the burst waits in the inbox and is coalesced.
    fake.faults.push({ match: /^GET \/rest\/api\/3\/issue\/SUP-1\?/, delayMs: 400, times: 1 });
    await send(event);
    // The same bytes nineteen more times: twenty events, one issue state.
    await Promise.all(Array.from({ length: 19 }, () => send(event)));
    await settled();
    expect(issueGets('SUP-1')).toBe(2);
    expect(await shardRows(server.dataDir, 'issues')).toHaveLength(1);
    expect(await shardRows(server.dataDir, 'comments')).toHaveLength(1);
    await send(event);
    await settled();
    expect(await shardRows(server.dataDir, 'issues')).toHaveLength(1);
    expect(await shardRows(server.dataDir, 'changelog')).toHaveLength(2);
  });

  it('a deleted comment keeps its issue; a signed delete of a live issue changes nothing', async () => {
    await start();
    const issue = fake.addIssue({ key: 'SUP-1', comments: 2 });
    await send(issueEvent('jira:issue_created', issue));
    await settled();
    issue.comments.pop();
    await send(issueEvent('comment_deleted', issue, { comment: { id: '1' } }));
    await settled();
    expect(await shardRows(server.dataDir, 'issues')).toHaveLength(1);
    expect(await shardRows(server.dataDir, 'comments')).toHaveLength(1);
    // Replayed or forged but signed: the GET finds the issue, so it is upserted instead (07 §5.7).
    await send(issueEvent('jira:issue_deleted', issue));
    await settled();
    expect(await shardRows(server.dataDir, 'issues')).toHaveLength(1);
  });

  it('jira:issue_deleted removes the issue from all six tables, keeping its raw document marked', async () => {
    await start();
    const keep = fake.addIssue({ key: 'SUP-1' });
    const gone = fake.addIssue({
      key: 'SUP-2',
      attachments: [{ id: '7', filename: 'a', content: `${fake.url}/rest/api/3/attachment/content/7` }],
      issuelinks: [{ id: '1', type: { name: 'Relates' }, inwardIssue: { key: 'SUP-1', fields: {} } }],
    });
    await send(issueEvent('jira:issue_created', keep));
    await send(issueEvent('jira:issue_created', gone));
    await settled();
    for (const entity of ['issues', 'comments', 'attachments', 'changelog', 'issuelinks', 'remote_links'])
      expect(
        (await shardRows(server.dataDir, entity)).some((r) => r.issue_key === 'SUP-2'),
        entity,
      ).toBe(true);
    fake.deleteIssue('SUP-2');
    await send(issueEvent('jira:issue_deleted', gone));
    await settled();
    for (const entity of ['issues', 'comments', 'attachments', 'changelog', 'issuelinks', 'remote_links'])
      expect(
        (await shardRows(server.dataDir, entity)).some((r) => r.issue_key === 'SUP-2'),
        entity,
      ).toBe(false);
    expect((await shardRows(server.dataDir, 'issues')).map((r) => r.issue_key)).toEqual(['SUP-1']);
    // Tables left without any row have no shard and no view.
    expect(await shardNames(server.dataDir, 'attachments')).toEqual([]);
    const raw = JSON.parse(
      await readFile(join(server.dataDir, 'jira', 'raw', 'issues', 'SUP-2.json'), 'utf8'),
    );
    expect(raw._deleted_at).toEqual(expect.any(String));
  });

  it('an update arriving after the delete does not bring the issue back; it fails five times into failed/', async () => {
    await start();
    const issue = fake.addIssue({ key: 'SUP-1' });
    await send(issueEvent('jira:issue_created', issue));
    await settled();
    fake.deleteIssue('SUP-1');
    await send(issueEvent('jira:issue_deleted', issue));
    await settled();
    // Out of order: an update Jira sent before the delete arrives last.
    await send(issueEvent('jira:issue_updated', issue));
    await eventually(async () => (await jira.status()).failed_events === 1, 15_000, 'a failed event');
    expect(await shardRows(server.dataDir, 'issues')).toEqual([]);
    const failed = await jiraFiles(server.dataDir, 'failed');
    expect(failed).toHaveLength(2);
    const errorFile = failed.find((f) => f.endsWith('.error'))!;
    const record = JSON.parse(await readFile(join(server.dataDir, 'jira', 'failed', errorFile), 'utf8'));
    expect(record).toMatchObject({ attempts: 5, last_error_code: 'not_found' });
    expect(JSON.stringify(record)).not.toContain(fake.account.token);
    // The attempt counts lived in the state store until the event left the inbox; they are
    // forgotten just after the move (a crash between leaves a row, never a lost event).
    await eventually(
      async () => (await server.ctx.repos.jiraEvents.get([errorFile.slice(20, -6)])).size === 0,
      5_000,
      'the attempt counts forgotten',
    );
    expect((await jira.status()).queue_depth).toBe(0);
  });

  it('retries after 500 and 429 (honouring Retry-After) and then applies the event', async () => {
    await start();
    const issue = fake.addIssue({ key: 'SUP-1' });
    fake.faults.push({ match: /^GET \/rest\/api\/3\/issue\/SUP-1\?/, status: 500, times: 4 });
    fake.faults.push({
      match: /^GET \/rest\/api\/3\/issue\/SUP-1\/comment/,
      status: 429,
      retryAfter: '0',
      times: 5,
    });
    await send(issueEvent('jira:issue_created', issue));
    await settled();
    expect(await shardRows(server.dataDir, 'issues')).toHaveLength(1);
    expect(fake.faults.every((f) => f.times === 0)).toBe(true);
  });

  it('fetches issues named only by id (link events) and upserts both ends', async () => {
    await start();
    const a = fake.addIssue({ key: 'SUP-1' });
    const b = fake.addIssue({ key: 'SUP-2' });
    await send(linkEvent('issuelink_created', a.id, b.id));
    await settled();
    expect((await shardRows(server.dataDir, 'issues')).map((r) => r.issue_key)).toEqual(['SUP-1', 'SUP-2']);
  });

  it('moves an issue whose month changed out of its old shard', async () => {
    await start();
    const issue = fake.addIssue({ key: 'SUP-1', created: '2024-01-15T10:00:00.000+0000' });
    await send(issueEvent('jira:issue_created', issue));
    await settled();
    expect(await shardNames(server.dataDir, 'issues')).toEqual(['2024-01.parquet']);
    fake.updateIssue('SUP-1', { created: '2024-02-15T10:00:00.000+0000' });
    await send(issueEvent('jira:issue_updated', issue));
    await settled();
    expect(await shardNames(server.dataDir, 'issues')).toEqual(['2024-02.parquet']);
    expect(await shardNames(server.dataDir, 'comments')).toEqual(['2024-02.parquet']);
    expect(await shardRows(server.dataDir, 'issues')).toHaveLength(1);
  });
});

describe('paths and outbound URLs (S5, S14)', () => {
  let trap: Server;
  let trapHits: string[];

  beforeEach(async () => {
    trapHits = [];
    trap = createServer((req, res) => {
      trapHits.push(req.url ?? '');
      res.end('secret internal data');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  });
  afterEach(async () => {
    await new Promise((resolve) => trap.close(resolve));
  });

  it('downloads attachments from the configured host only, within the size cap', async () => {
    await start({ download_attachments: true, max_attachment_bytes: 64 });
    const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
    fake.attachments.set('11', Buffer.from('hello attachment'));
    fake.attachments.set('12', Buffer.alloc(1000, 1));
    fake.attachments.set('13', Buffer.from('never fetched'));
    const issue = fake.addIssue({
      key: 'SUP-1',
      attachments: [
        { id: '11', filename: 'ok.txt', content: `${fake.url}/rest/api/3/attachment/content/11` },
        { id: '12', filename: 'big.bin', content: `${fake.url}/rest/api/3/attachment/content/12` },
        // SSRF: a payload URL on another host (and one with credentials) is never followed.
        { id: '13', filename: 'evil.txt', content: `${trapUrl}/rest/api/3/attachment/content/13` },
        { id: '14', filename: 'evil2.txt', content: `http://user:pw@${new URL(fake.url).host}/x` },
        { id: '../../../etc', filename: 'traversal', content: `${fake.url}/rest/api/3/attachment/content/1` },
      ],
    });
    await send(issueEvent('jira:issue_created', issue));
    await settled();
    expect(trapHits).toEqual([]);
    const rows = await shardRows(server.dataDir, 'attachments', 'filename');
    expect(Object.fromEntries(rows.map((r) => [r.filename, r.local_path]))).toEqual({
      'big.bin': null,
      'evil.txt': null,
      'evil2.txt': null,
      'ok.txt': 'SUP-1/11',
      traversal: null,
    });
    const stored = await readFile(join(server.dataDir, 'jira', 'raw', 'attachments', 'SUP-1', '11'), 'utf8');
    expect(stored).toBe('hello attachment');
    expect(
      fake.requests.filter((r) => r.path.includes('/attachment/content/')).map((r) => r.path),
    ).not.toContain('/rest/api/3/attachment/content/13?redirect=false');
    expect(await stat(join(server.dataDir, 'jira', 'raw', 'etc')).catch(() => null)).toBeNull();
  });

  it('never lets an issue key from a planted inbox file become a path', async () => {
    await start();
    const inboxDir = join(server.dataDir, 'jira', 'inbox');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(inboxDir, { recursive: true });
    const id = '0c2f4f8e-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
    await writeFile(
      join(inboxDir, `20240101T000000000Z-${id}.json`),
      JSON.stringify({
        event_id: id,
        received_at: '2024-01-01T00:00:00.000Z',
        event: 'jira:issue_updated',
        issue_key: '../../../../tmp/pwn',
        issue_ids: [],
        payload: {},
      }),
    );
    await sendWebhook(server.url, issueEvent('jira:issue_updated', fake.addIssue({ key: 'SUP-9' })), {
      secret: WEBHOOK_SECRET,
    });
    await eventually(
      async () => (await jira.status()).failed_events === 1,
      15_000,
      'the planted event failing',
    );
    expect(fake.requests.some((r) => r.path.includes('pwn') || r.path.includes('..'))).toBe(false);
    expect(await stat(join(server.dataDir, 'tmp', 'pwn.json')).catch(() => null)).toBeNull();
    expect(await shardRows(server.dataDir, 'issues')).toHaveLength(1);
  });
});

describe('SLA overlay (07 §5.2, §5.4)', () => {
  it('reads SLA fields through the SLA account: the ongoing cycle, else the last completed; errorMessage is NULL', async () => {
    await start({}, { sla: true });
    fake.addIssue({
      key: 'SUP-1',
      sla: {
        customfield_10328: {
          completedCycles: [
            { breached: true, goalDuration: { millis: 1 }, elapsedTime: { millis: 2 } },
            { breached: false, goalDuration: { millis: 3600000 }, elapsedTime: { millis: 60000 } },
          ],
        },
        customfield_10161: { errorMessage: 'no permission' },
      },
      fields: { customfield_10328: { ongoingCycle: { breached: true, goalDuration: { millis: 9 } } } },
    });
    await send(issueEvent('jira:issue_created', fake.issues.get('SUP-1')!));
    await settled();
    const [issue] = await shardRows(server.dataDir, 'issues');
    expect(issue).toMatchObject({
      first_response_breached: false,
      first_response_goal_millis: 3600000n,
      first_response_elapsed_millis: 60000n,
      time_to_resolution_breached: null,
      time_to_resolution_goal_millis: null,
    });
    const sla = fake.requests.filter((r) => r.path.startsWith('/sla/'));
    expect(sla.length).toBe(1);
    expect(sla.every((r) => r.account === fake.slaAccount.email)).toBe(true);
    expect(
      fake.requests.filter((r) => !r.path.startsWith('/sla/')).every((r) => r.account === fake.account.email),
    ).toBe(true);
  });
});

describe('text (07 §5.7)', () => {
  it('renders ADF with mentions, cards and hard breaks', async () => {
    await start();
    fake.addIssue({
      key: 'SUP-1',
      fields: {
        description: {
          type: 'doc',
          content: [
            { type: 'heading', content: [{ type: 'text', text: 'Title' }] },
            {
              type: 'paragraph',
              content: [
                { type: 'text', text: 'Hi ' },
                { type: 'mention', attrs: { text: '@Ann' } },
                { type: 'hardBreak' },
                { type: 'inlineCard', attrs: { url: 'https://x.example/1' } },
              ],
            },
            {
              type: 'bulletList',
              content: [
                {
                  type: 'listItem',
                  content: [{ type: 'paragraph', content: [{ type: 'text', text: 'one' }] }],
                },
                {
                  type: 'listItem',
                  content: [{ type: 'paragraph', content: [{ type: 'text', text: 'two' }] }],
                },
              ],
            },
          ],
        },
        customfield_10330: adf('context text'),
      },
    });
    await send(issueEvent('jira:issue_created', fake.issues.get('SUP-1')!));
    await settled();
    const [issue] = await shardRows(server.dataDir, 'issues');
    expect(issue?.description).toBe('Title\nHi @Ann\nhttps://x.example/1\none\ntwo');
    expect(issue?.context).toBe('context text');
  });
});

describe('the worker as the lead moves between replicas', () => {
  it('starts again after a stop and applies what was accepted meanwhile', async () => {
    await start();
    fake.addIssue({ key: 'SUP-1', created: '2024-03-15T10:00:00.000+0000' });
    fake.addIssue({ key: 'SUP-2', created: '2024-03-15T10:00:00.000+0000' });
    await send(issueEvent('jira:issue_created', fake.issues.get('SUP-1')!));
    await settled();

    await jira.service.stop();
    await send(issueEvent('jira:issue_created', fake.issues.get('SUP-2')!));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await shardRows(server.dataDir, 'issues')).map((row) => row.issue_key)).toEqual(['SUP-1']);

    await jira.service.start();
    await settled();
    await eventually(
      async () =>
        JSON.stringify((await shardRows(server.dataDir, 'issues')).map((row) => row.issue_key)) ===
        '["SUP-1","SUP-2"]',
      10_000,
      'the event accepted while stopped applied after the start',
    );
  });
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FakeJira, issueEvent, linkEvent, sendWebhook, sign } from '../../fakes/jira.js';
import { jiraFiles, jiraSection, WEBHOOK_SECRET } from '../../support/jira.js';
import { call, createUser, type TestServer, withServer } from '../../support/server.js';

/**
 * `POST /webhooks/jira` (03 §20, 07 §5.1, §5.7; S6, S16 of 10 §3) against the real server: the
 * signature matrix, the order of refusals, body validation and the durable inbox. The worker is
 * not running here, so what the route stored stays in the inbox to be looked at.
 */

let fake: FakeJira;
let server: TestServer;
const ISSUE = { id: '10001', key: 'SUP-1' };
const EVENT = issueEvent('jira:issue_updated', ISSUE);

beforeAll(async () => {
  fake = await FakeJira.start();
  server = await withServer({ config: { jira: jiraSection(fake, { extra: { max_event_bytes: 4096 } }) } });
});
afterAll(async () => {
  await server.close();
  await fake.close();
});

const inbox = () => jiraFiles(server.dataDir, 'inbox');
const send = (payload: unknown, options: Parameters<typeof sendWebhook>[2] = { secret: WEBHOOK_SECRET }) =>
  sendWebhook(server.url, payload, options);

describe('webhook signature (S6)', () => {
  afterEach(async () => {
    // Every refusal below must have stored nothing; the accepted cases clean up after themselves.
    expect(fake.requests).toEqual([]);
  });

  const body = Buffer.from(JSON.stringify(EVENT));
  const good = sign(WEBHOOK_SECRET, body);
  const refusals: [string, Parameters<typeof sendWebhook>[2]][] = [
    ['no signature header', { secret: null }],
    ['a signature made with another key', { secret: 'another-secret-0123456789' }],
    ['bad hex', { secret: null, signature: `${good.slice(0, 62)}zz` }],
    ['a short signature', { secret: null, signature: good.slice(0, 40) }],
    ['an empty signature', { secret: null, signature: '', prefix: '' }],
    ['a sha1-sized signature', { secret: null, signature: good.slice(0, 40), prefix: 'sha1=' }],
    [
      'a wrong X-Hub-Signature-256 beside a right legacy header',
      {
        secret: null,
        signature: sign('another-secret-0123456789', body),
        headers: { 'X-Hub-Signature': `sha256=${good}` },
      },
    ],
  ];
  it.each(refusals)('refuses %s with 401 and stores nothing', async (_name, options) => {
    const before = await inbox();
    const answer = await send(body, options);
    expect(answer.status).toBe(401);
    expect(answer.body.code).toBe('invalid_signature');
    expect(await inbox()).toEqual(before);
  });

  it('refuses a body changed by one byte after signing', async () => {
    const changed = Buffer.from(body);
    changed[changed.length - 2] = changed[changed.length - 2]! ^ 1;
    const answer = await send(changed, { secret: null, signature: good });
    expect(answer.status).toBe(401);
    expect(await inbox()).toEqual([]);
  });

  const accepted: [string, Parameters<typeof sendWebhook>[2]][] = [
    ['Jira’s `sha256=<hex>`', { secret: WEBHOOK_SECRET }],
    ['upper-case hex', { secret: null, signature: good.toUpperCase() }],
    ['an upper-case prefix', { secret: WEBHOOK_SECRET, prefix: 'SHA256=' }],
    ['bare hex', { secret: WEBHOOK_SECRET, prefix: '' }],
    ['the legacy X-Hub-Signature header', { secret: WEBHOOK_SECRET, header: 'X-Hub-Signature' }],
    [
      'any Content-Type (the bytes are signed, not the type)',
      { secret: WEBHOOK_SECRET, headers: { 'content-type': 'text/plain' } },
    ],
  ];
  it.each(accepted)('accepts %s', async (_name, options) => {
    const answer = await send(body, options);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'accepted', event: 'jira:issue_updated', issue: 'SUP-1' });
    const files = await inbox();
    expect(files).toHaveLength(1);
    await removeInbox();
  });

  it('takes a replayed delivery (identical bytes) as a new event: processing is idempotent', async () => {
    const first = await send(body, { secret: WEBHOOK_SECRET });
    const second = await send(body, { secret: WEBHOOK_SECRET });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.body.event_id).not.toBe(second.body.event_id);
    expect(await inbox()).toHaveLength(2);
    await removeInbox();
  });
});

async function removeInbox(): Promise<void> {
  const { rm } = await import('node:fs/promises');
  await rm(join(server.dataDir, 'jira', 'inbox'), { recursive: true, force: true });
}

describe('webhook body (S16, 07 §5.1)', () => {
  afterEach(removeInbox);

  const cases: [string, unknown, number, string][] = [
    ['an empty body', '', 400, 'empty_payload'],
    ['a whitespace-only body', '  \n\t ', 400, 'empty_payload'],
    ['malformed JSON', '{"webhookEvent": "jira:issue_updated", ', 400, 'invalid_json'],
    ['a JSON array', [EVENT], 400, 'not_an_object'],
    ['JSON null', 'null', 400, 'not_an_object'],
    ['no webhookEvent', { issue: ISSUE }, 400, 'invalid_event'],
    ['an event name with a slash', { ...EVENT, webhookEvent: 'jira:issue/../x' }, 400, 'invalid_event'],
    ['an event name of 101 characters', { ...EVENT, webhookEvent: 'e'.repeat(101) }, 400, 'invalid_event'],
    [
      'a path-traversal issue key',
      { ...EVENT, issue: { key: '../../etc/passwd' } },
      400,
      'invalid_issue_key',
    ],
    ['a key with a slash', { ...EVENT, issue: { key: 'SUP-1/../../x' } }, 400, 'invalid_issue_key'],
    ['a lower-case key', { ...EVENT, issue: { key: 'sup-1' } }, 400, 'invalid_issue_key'],
    ['a key that is not a string', { ...EVENT, issue: { key: ['SUP-1'] } }, 400, 'invalid_issue_key'],
    ['no issue at all', { webhookEvent: 'jira:issue_created' }, 400, 'invalid_issue_key'],
    [
      'an id-only event with a bad id',
      { webhookEvent: 'jira:issue_updated', issue: { id: '12a' } },
      400,
      'invalid_issue_key',
    ],
    [
      'a link with one bad id',
      {
        ...linkEvent('issuelink_created', '1', '2'),
        issueLink: { sourceIssueId: 1, destinationIssueId: '../2' },
      },
      400,
      'invalid_issue_key',
    ],
  ];
  it.each(cases)('answers %s with %i %s and stores nothing', async (_name, payload, status, code) => {
    const answer = await send(payload);
    expect(answer.status).toBe(status);
    expect(answer.body.code).toBe(code);
    // No stack traces, paths or the rejected value in the answer (03 §0.2).
    expect(answer.text).not.toMatch(/passwd|\/tmp|at .*\.ts/);
    expect(await inbox()).toEqual([]);
  });

  it('answers 413 payload_too_large for a body over jira.max_event_bytes, before it is read, and stores nothing', async () => {
    const big = { ...EVENT, padding: 'x'.repeat(5000) };
    const answer = await send(big);
    expect(answer.status).toBe(413);
    expect(answer.body.code).toBe('payload_too_large');
    // Also without a Content-Length: the limit holds while streaming.
    const chunked = await fetch(`${server.url}/webhooks/jira`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(1000)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    expect(await inbox()).toEqual([]);
  });

  it('answers event types that need no work with 200 ignored and stores nothing', async () => {
    const answer = await send({ webhookEvent: 'project_created', project: { key: 'SUP' } });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ status: 'ignored', event: 'project_created' });
    expect(await inbox()).toEqual([]);
  });

  it('stores an accepted event durably under a generated name, with the payload, before answering', async () => {
    const answer = await send({ ...EVENT, webhookEvent: 'comment_deleted', comment: { id: '5' } });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ status: 'accepted', event: 'comment_deleted', issue: 'SUP-1' });
    const [file, ...rest] = await inbox();
    expect(rest).toEqual([]);
    // `<received_at as YYYYMMDDTHHMMSSmmmZ>-<event_id>.json`: nothing from the payload.
    expect(file).toBe(`${file?.slice(0, 19)}-${answer.body.event_id}.json`);
    expect(file).toMatch(
      /^\d{8}T\d{9}Z-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\.json$/,
    );
    const stored = JSON.parse(await readFile(join(server.dataDir, 'jira', 'inbox', file!), 'utf8'));
    expect(stored).toMatchObject({
      event_id: answer.body.event_id,
      event: 'comment_deleted',
      issue_key: 'SUP-1',
      issue_ids: [],
      payload: { webhookEvent: 'comment_deleted', comment: { id: '5' } },
    });
    expect(Date.parse(stored.received_at)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('accepts events that name their issues only by numeric id, answering issue null', async () => {
    const link = await send(linkEvent('issuelink_created', '10001', '10002'));
    expect(link.body).toMatchObject({ status: 'accepted', issue: null });
    const worklog = await send({ webhookEvent: 'worklog_updated', worklog: { issueId: '10003' } });
    expect(worklog.body).toMatchObject({ status: 'accepted', issue: null });
    const files = await inbox();
    const stored = await Promise.all(
      files.map(async (f) => JSON.parse(await readFile(join(server.dataDir, 'jira', 'inbox', f), 'utf8'))),
    );
    expect(stored.map((s) => s.issue_ids)).toEqual([['10001', '10002'], ['10003']]);
  });

  it('keeps the payload out of the audit log', async () => {
    await send({ ...EVENT, secret_looking_field: 'payload-marker-7f3a' });
    const rows = await server.ctx.repos.audit.list({ action: 'jira.webhook' }, { page: 1, per_page: 50 });
    expect(rows.items.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows.items)).not.toContain('payload-marker-7f3a');
  });
});

describe('webhook fails closed (03 §20)', () => {
  it('answers 503 webhook_secret_not_configured without a secret, whatever the signature, before the body', async () => {
    const bare = await withServer({ config: { jira: jiraSection(fake, { secret: null }) } });
    try {
      for (const secret of [null, '', WEBHOOK_SECRET]) {
        const answer = await sendWebhook(bare.url, EVENT, { secret });
        expect(answer.status).toBe(503);
        expect(answer.body.code).toBe('webhook_secret_not_configured');
      }
      // Checked before the size: an oversized body gets the 503 too.
      const big = await sendWebhook(
        bare.url,
        { ...EVENT, padding: 'x'.repeat(6 * 1024 * 1024) },
        { secret: null },
      );
      expect(big.status).toBe(503);
      expect(await jiraFiles(bare.dataDir, 'inbox')).toEqual([]);
      const health = await call(bare, 'GET', '/webhooks/jira/health');
      expect(health.body).toEqual({ status: 'ok', configured: true, webhook_secret_set: false });
    } finally {
      await bare.close();
    }
  });

  it('answers 503 jira_not_configured when the secret is set but the REST account is not', async () => {
    const noRest = await withServer({ config: { jira: { webhook_secret: WEBHOOK_SECRET } } });
    try {
      const answer = await sendWebhook(noRest.url, EVENT, { secret: WEBHOOK_SECRET });
      expect(answer.status).toBe(503);
      expect(answer.body.code).toBe('jira_not_configured');
      const health = await call(noRest, 'GET', '/webhooks/jira/health');
      expect(health.body).toEqual({ status: 'ok', configured: false, webhook_secret_set: true });
    } finally {
      await noRest.close();
    }
  });

  it('shows no domain, host or account in the public health', async () => {
    const health = await call(server, 'GET', '/webhooks/jira/health');
    expect(health.body).toEqual({ status: 'ok', configured: true, webhook_secret_set: true });
    expect(health.text).not.toContain('127.0.0.1');
  });
});

describe('/api/jira (03 §20)', () => {
  it('gives admins the status and queues the jobs; refuses a bad consistency window with 422', async () => {
    const admin = await createUser(server.ctx, 'admin');
    const status = await call(server, 'GET', '/api/jira/status', { auth: admin.auth });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ configured: true, failed_events: 0, last_consistency_report: null });
    const sla = await call(server, 'POST', '/api/jira/sla-poll', { auth: admin.auth });
    expect(sla.status).toBe(202);
    expect(sla.body.job_id).toEqual(expect.any(String));
    const bad = await call(server, 'POST', '/api/jira/consistency-check', {
      auth: admin.auth,
      body: { max_age_days: 0 },
    });
    expect(bad.status).toBe(422);
    const check = await call(server, 'POST', '/api/jira/consistency-check', {
      auth: admin.auth,
      body: { max_age_days: 7 },
    });
    expect(check.status).toBe(202);
    const analyst = await createUser(server.ctx, 'analyst');
    expect((await call(server, 'GET', '/api/jira/status', { auth: analyst.auth })).status).toBe(403);
  });

  it('shows the Jira queue in the detailed health to admins only', async () => {
    const admin = await createUser(server.ctx, 'admin');
    const analyst = await createUser(server.ctx, 'analyst');
    const forAdmin = await call(server, 'GET', '/api/health/detailed', { auth: admin.auth });
    expect(forAdmin.body.services.jira).toEqual({
      status: 'healthy',
      queue_depth: expect.any(Number),
      last_event_at: expect.toSatisfy((v: unknown) => v === null || typeof v === 'string'),
    });
    const forAnalyst = await call(server, 'GET', '/api/health/detailed', { auth: analyst.auth });
    expect(forAnalyst.status).toBe(200);
    expect(forAnalyst.body.services.jira).toBeUndefined();
  });
});

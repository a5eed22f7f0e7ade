import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createJiraConnector } from '../../../src/connectors/jira/index.js';
import type { PushSource } from '../../../src/core/extract/push.js';
import { FakeJira, type IssueSeed, issueEvent, sendWebhook } from '../../fakes/jira.js';
import {
  eventually,
  inboxEmpty,
  shardNames,
  shardRows,
  startJiraServer,
  WEBHOOK_SECRET,
} from '../../support/jira.js';
import { call, createUser, type TestServer, type TestUser } from '../../support/server.js';

/**
 * The SLA poll, the consistency check (07 §5.5, §5.7) run as jobs through the job runner, and
 * the full re-transform (07 §5.3), against the fake Jira.
 */

let fake: FakeJira;
let server: TestServer;
let jira: PushSource;
let admin: TestUser;

async function start(extra: Record<string, unknown> = {}, options: { sla?: boolean } = {}): Promise<void> {
  ({ server, jira } = await startJiraServer(fake, { extra, ...options }));
  admin = await createUser(server.ctx, 'admin');
}

beforeEach(async () => {
  fake = await FakeJira.start();
});
afterEach(async () => {
  await server?.close();
  await fake.close();
});

async function ingest(...seeds: IssueSeed[]): Promise<void> {
  for (const seed of seeds) {
    const issue = fake.addIssue(seed);
    const answer = await sendWebhook(server.url, issueEvent('jira:issue_created', issue), {
      secret: WEBHOOK_SECRET,
    });
    expect(answer.status).toBe(200);
  }
  await settled();
}

const settled = () => inboxEmpty(jira);

async function runJob(path: string, body?: unknown): Promise<Record<string, unknown>> {
  const queued = await call(server, 'POST', path, { auth: admin.auth, body });
  expect(queued.status, queued.text).toBe(202);
  const job = await server.ctx.jobs.waitFor(queued.body.job_id);
  expect(job.status, job.error ?? '').toBe('succeeded');
  return job.report as Record<string, unknown>;
}

const sla = (elapsed: number) => ({
  customfield_10328: {
    ongoingCycle: { breached: false, goalDuration: { millis: 3_600_000 }, elapsedTime: { millis: elapsed } },
  },
});
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describe('SLA poll (07 §5.5)', () => {
  it('refreshes open issues with an SLA clock and re-transforms them without a new fetch', async () => {
    await start({}, { sla: true });
    await ingest(
      { key: 'SUP-1', sla: sla(1000) },
      { key: 'SUP-2', sla: sla(1000), status: 'Closed', statusCategory: 'Done' },
      { key: 'SUP-3' },
      { key: 'SUP-4', sla: sla(1000) },
      { key: 'SUP-5', sla: sla(1000) },
    );
    fake.issues.get('SUP-1')!.sla = sla(90_000);
    Object.assign(fake.issues.get('SUP-4')!.fields, {
      status: { name: 'Resolved', statusCategory: { name: 'Done' } },
    });
    fake.issues.get('SUP-5')!.sla = {};
    const fetchesBefore = fake.requests.filter((r) =>
      /^\/rest\/api\/3\/issue\/SUP-1\?expand/.test(r.path),
    ).length;

    const report = await runJob('/api/jira/sla-poll');
    expect(report).toEqual({ candidates: 3, updated: 1, healed: 1, skipped: 1, failed: 0 });
    await settled();
    await eventually(async () => {
      const rows = await shardRows(server.dataDir, 'issues');
      const one = rows.find((r) => r.issue_key === 'SUP-1');
      const four = rows.find((r) => r.issue_key === 'SUP-4');
      return one?.first_response_elapsed_millis === 90_000n && four?.status_category === 'Done';
    });
    // The synthetic agnes:sla_refresh events re-transformed from the raw documents alone.
    expect(fake.requests.filter((r) => /^\/rest\/api\/3\/issue\/SUP-1\?expand/.test(r.path)).length).toBe(
      fetchesBefore,
    );
    // SLA reads go through the SLA account only.
    expect(
      fake.requests
        .filter((r) => r.path.startsWith('/sla/'))
        .every((r) => r.account === fake.slaAccount.email),
    ).toBe(true);
  });
});

describe('consistency check (07 §5.5, §5.7)', () => {
  it('finds what is missing, outdated or gone in the same window, queues repairs and reports', async () => {
    await start();
    const day = 86_400_000;
    await ingest(
      { key: 'SUP-1', updated: ago(day) },
      { key: 'SUP-3', updated: ago(2 * day) },
      { key: 'SUP-4', updated: ago(3 * day) },
      { key: 'SUP-6', updated: ago(2 * day) },
    );
    // SUP-2 exists in Jira only; SUP-3 was deleted without a webhook; SUP-4 changed since it was
    // synced; SUP-6 changed a minute ago, so the search (updated <= -5m) misses it but a GET finds it.
    fake.addIssue({ key: 'SUP-2', updated: ago(day) });
    fake.deleteIssue('SUP-3');
    fake.updateIssue('SUP-4', { summary: 'changed in Jira' }, ago(60 * 60_000));
    const rawFile = join(server.dataDir, 'jira', 'raw', 'issues', 'SUP-4.json');
    const stale = JSON.parse(await readFile(rawFile, 'utf8'));
    await writeFile(rawFile, JSON.stringify({ ...stale, _synced_at: ago(3 * day) }));
    fake.updateIssue('SUP-6', { summary: 'just now' }, ago(60_000));

    const report = await runJob('/api/jira/consistency-check', { max_age_days: 7 });
    expect(report).toMatchObject({
      counts: { jira: 3, raw: 4, parquet: 4 },
      discrepancies: {
        missing_in_raw: ['SUP-2'],
        missing_in_parquet: [],
        deleted_in_jira: ['SUP-3'],
        outdated: ['SUP-4'],
      },
      actions: { enqueued: 3, capped: 0 },
      alert_level: 'info',
    });
    const window = report.window as { from: string; to: string };
    expect(Date.parse(window.to) - Date.parse(window.from)).toBe(7 * day - 5 * 60_000);
    await settled();
    const rows = await shardRows(server.dataDir, 'issues');
    expect(rows.map((r) => r.issue_key)).toEqual(['SUP-1', 'SUP-2', 'SUP-4', 'SUP-6']);
    expect(rows.find((r) => r.issue_key === 'SUP-4')?.summary).toBe('changed in Jira');
    const status = await call(server, 'GET', '/api/jira/status', { auth: admin.auth });
    expect(status.body.last_consistency_report).toMatchObject({
      discrepancies: { deleted_in_jira: ['SUP-3'] },
    });
    const onDisk = JSON.parse(
      await readFile(join(server.dataDir, 'jira', 'consistency-report.json'), 'utf8'),
    );
    expect(onDisk.actions).toEqual({ enqueued: 3, capped: 0 });
  });

  it('caps fetches and deletes at max_backfill and raises the alert level', async () => {
    await start({ consistency: { max_backfill: 1 } });
    await ingest({ key: 'SUP-1', updated: ago(86_400_000) });
    for (const key of ['SUP-2', 'SUP-3', 'SUP-4']) fake.addIssue({ key, updated: ago(86_400_000) });
    const report = await runJob('/api/jira/consistency-check');
    expect(report).toMatchObject({
      discrepancies: { missing_in_raw: ['SUP-2', 'SUP-3', 'SUP-4'] },
      actions: { enqueued: 1, capped: 2 },
      alert_level: 'error',
    });
  });
});

describe('full re-transform (07 §5.3, §5.7)', () => {
  it('rebuilds every shard from the raw documents, leaves deleted issues out and removes shards it did not write', async () => {
    await start();
    await ingest(
      { key: 'SUP-1', created: '2024-01-10T00:00:00.000+0000' },
      { key: 'SUP-2', created: '2024-02-10T00:00:00.000+0000' },
      { key: 'SUP-3', created: '2024-03-10T00:00:00.000+0000' },
    );
    fake.deleteIssue('SUP-2');
    const answer = await sendWebhook(
      server.url,
      issueEvent('jira:issue_deleted', { id: '1', key: 'SUP-2' }),
      {
        secret: WEBHOOK_SECRET,
      },
    );
    expect(answer.status).toBe(200);
    await settled();
    const incremental = await Promise.all(
      ['issues', 'comments', 'changelog', 'remote_links'].map((e) => shardRows(server.dataDir, e, '1, 2, 3')),
    );
    // A stray shard (from an older layout, say) is not something the re-transform wrote.
    const issuesDir = join(server.dataDir, 'extracts', 'jira', 'data', 'issues');
    await copyFile(join(issuesDir, '2024-01.parquet'), join(issuesDir, '2019-12.parquet'));

    const source = server.ctx.sources.find((s) => s.name === 'jira')!;
    const result = await createJiraConnector().extract(
      {
        source: 'jira',
        type: 'jira',
        extractDir: join(server.dataDir, 'extracts', 'jira'),
        fullRefresh: true,
        tables: ['issues', 'comments', 'changelog', 'remote_links'].map((id) => ({
          id,
          source_table: id,
          bucket: '',
          sync_strategy: 'full_refresh' as const,
          query_mode: 'local' as const,
          primary_key: [],
          partition_by: null,
          partition_granularity: null,
          watermark: null,
        })),
        config: source.config,
      },
      { progress: () => undefined, env: {} },
    );
    expect(result.tables_failed).toEqual([]);
    expect(result.tables_extracted.sort()).toEqual(['changelog', 'comments', 'issues', 'remote_links']);
    expect(await shardNames(server.dataDir, 'issues')).toEqual(['2024-01.parquet', '2024-03.parquet']);
    const full = await Promise.all(
      ['issues', 'comments', 'changelog', 'remote_links'].map((e) => shardRows(server.dataDir, e, '1, 2, 3')),
    );
    expect(full).toEqual(incremental);
    expect(full[0]?.map((r) => r.issue_key)).toEqual(['SUP-1', 'SUP-3']);
  });
});

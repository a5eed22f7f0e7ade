import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createJiraConnector } from '../../../src/connectors/jira/index.js';
import type { ShardChange } from '../../../src/connectors/jira/shards.js';
import { FakeJira, issueEvent, sendWebhook } from '../../fakes/jira.js';
import { eventually, inboxEmpty, shardRows, startJiraServer, WEBHOOK_SECRET } from '../../support/jira.js';
import type { TestServer } from '../../support/server.js';

/** Every shard write the worker makes, and a gate that holds the first one until the test opens it. */
const writes = vi.hoisted(() => {
  let open: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { changes: [] as { upserts: number }[], gate, open: () => open() };
});

vi.mock('../../../src/connectors/jira/shards.js', async (original) => {
  const actual = await original<typeof import('../../../src/connectors/jira/shards.js')>();
  return {
    ...actual,
    writeShards: async (...args: Parameters<typeof actual.writeShards>) => {
      const change: ShardChange = args[2];
      writes.changes.push({ upserts: change.upserts.length });
      if (writes.changes.length === 1) await writes.gate;
      return actual.writeShards(...args);
    },
  };
});

const BATCH = 5;
const ISSUES = 40;

/**
 * Group commit (07 §5.2 batches of at most `batchSize` events, written together when several were
 * fetched during one write): while the first write is held, the worker keeps fetching batches, and
 * the writer then takes them as one group, so the shards are rewritten once for them all.
 */
describe('the Jira worker under a backlog', () => {
  let fake: FakeJira;
  let server: TestServer;

  beforeAll(async () => {
    fake = await FakeJira.start();
    ({ server } = await startJiraServer(fake, {
      connector: createJiraConnector({
        tuning: { retryDelayMs: 10, requestTimeoutMs: 5000 },
        batchSize: BATCH,
      }),
    }));
  });
  afterAll(async () => {
    writes.open();
    await server?.close();
    await fake?.close();
  });

  it('writes the batches fetched during a write as one group, losing and repeating nothing', async () => {
    const issues = Array.from({ length: ISSUES }, (_, i) =>
      fake.addIssue({ key: `SUP-${i + 1}`, created: '2024-05-10T10:00:00.000+0000' }),
    );
    const send = async (issue: (typeof issues)[number]) => {
      const answer = await sendWebhook(server.url, issueEvent('jira:issue_created', issue), {
        secret: WEBHOOK_SECRET,
      });
      expect(answer.status).toBe(200);
    };
    await send(issues[0]!);
    await eventually(async () => writes.changes.length === 1, 10_000, 'the first write to start');
    for (const issue of issues.slice(1)) await send(issue);
    // The worker fetches while the first write is held, until its queue of fetched batches is full
    // or the inbox is empty: wait until the fetching stops.
    const fetched = () => fake.requests.filter((r) => /\/issue\/SUP-\d+\?/.test(r.path)).length;
    let seen = -1;
    await eventually(
      async () => {
        const now = fetched();
        const still = now === seen;
        seen = now;
        if (!still) await new Promise((resolve) => setTimeout(resolve, 300));
        return still;
      },
      15_000,
      'the fetching to stop',
    );
    expect(seen).toBeGreaterThan(BATCH + 1);
    writes.open();
    await inboxEmpty(server.ctx.push.get('jira')!, 20_000);

    const rows = await shardRows(server.dataDir, 'issues');
    expect(rows.map((r) => r.issue_key).sort()).toEqual(issues.map((i) => i.key).sort());
    // Without grouping every write would hold at most one batch of 5 issues.
    expect(writes.changes.length).toBeLessThan(Math.ceil(ISSUES / BATCH));
    expect(Math.max(...writes.changes.map((c) => c.upserts))).toBeGreaterThan(BATCH);
    expect(writes.changes.reduce((sum, c) => sum + c.upserts, 0)).toBe(ISSUES);
  });
});

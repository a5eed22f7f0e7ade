import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createJiraConnector } from '../../../src/connectors/jira/index.js';
import { DEFAULT_CUSTOM_FIELDS, ENTITIES } from '../../../src/connectors/jira/tables.js';
import { FakeJira, issueEvent, sendWebhook } from '../../fakes/jira.js';
import { tempDir } from '../../support/extracts.js';
import { eventually, jiraFiles, jiraSection, shardRows, WEBHOOK_SECRET } from '../../support/jira.js';
import { killIfRunning, until } from '../../support/processes.js';
import { type ServeProcess, startServe } from '../../support/serve-process.js';

/**
 * R4 (10 §2): `agnes serve` (built with `npm run build`) SIGKILLed while its Jira worker fetches
 * and while it writes shards. Every event it answered 200 takes effect after a restart, no row is
 * there twice, and the shards equal what a clean full re-transform of the same raw documents writes.
 */

const JWT_SECRET = 'jira-kill-test-secret-0123456789abcdef';
const ISSUES = 40;
/**
 * Kill delays, so every run kills at the same points: after the first fetch of round 1, and in
 * rounds 2–4 after the first raw document of the round is written (the batch is then writing its
 * raw documents and shards).
 */
const KILL_AFTER_MS = [150, 0, 40, 120];

let fake: FakeJira;
let dir: Awaited<ReturnType<typeof tempDir>>;
let dataDir: string;
let configDir: string;
let serve: ServeProcess | null = null;

beforeAll(async () => {
  fake = await FakeJira.start();
  dir = await tempDir('agnes-jira-kill-');
  dataDir = join(dir.path, 'data');
  configDir = join(dir.path, 'config');
  await mkdir(dataDir, { recursive: true });
  await mkdir(configDir, { recursive: true });
  await writeFile(join(configDir, 'instance.yaml'), stringify({ jira: jiraSection(fake) }));
  for (let i = 1; i <= ISSUES; i++)
    fake.addIssue({
      key: `SUP-${i}`,
      created: `2024-0${1 + (i % 2)}-10T10:00:00.000+0000`,
      comments: 2,
      changes: 2,
    });
});
afterAll(async () => {
  if (serve) await killIfRunning(serve);
  await fake.close();
  await dir.cleanup();
});

async function start(): Promise<ServeProcess> {
  serve = await startServe({ cwd: dir.path, dataDir, configDir, jwtSecret: JWT_SECRET });
  return serve;
}

/** Accepted events still waiting in the inbox at each kill. */
const waitingAtKill: number[] = [];

async function kill(): Promise<void> {
  if (!serve) return;
  serve.child.kill('SIGKILL');
  const exit = await serve.exited;
  expect(exit.signal).toBe('SIGKILL');
  serve = null;
  waitingAtKill.push((await jiraFiles(dataDir, 'inbox')).filter((f) => /^\d{8}T.*\.json$/.test(f)).length);
}

/** Posts one update per issue, each renaming it to `summary`; returns how many were answered 200. */
async function sendRound(server: ServeProcess, summary: string): Promise<number> {
  let accepted = 0;
  await Promise.all(
    Array.from({ length: ISSUES }, async (_, i) => {
      const issue = fake.updateIssue(`SUP-${i + 1}`, { summary: `${summary} ${i + 1}` });
      const answer = await sendWebhook(
        `http://127.0.0.1:${server.port}`,
        issueEvent('jira:issue_updated', issue),
        {
          secret: WEBHOOK_SECRET,
        },
      );
      if (answer.status === 200) accepted += 1;
    }),
  );
  return accepted;
}

/** mtime (ms) of the newest raw issue document. */
async function newestRawDoc(): Promise<number> {
  const dirPath = join(dataDir, 'jira', 'raw', 'issues');
  const names = (await readdir(dirPath).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  const times = await Promise.all(
    names.map(async (n) => (await stat(join(dirPath, n)).catch(() => null))?.mtimeMs ?? 0),
  );
  return Math.max(0, ...times);
}

const issueFetches = () =>
  fake.requests.filter((r) => /^\/rest\/api\/3\/issue\/SUP-\d+\?/.test(r.path)).length;

describe('agnes serve killed while its Jira worker runs (R4)', () => {
  it('loses no accepted event, applies none twice, and ends with the shards a clean run writes', async () => {
    // Round 1: killed while the batch's fetches are in flight (Jira answers slowly).
    fake.faults.push({
      match: /^GET \/rest\/api\/3\/issue\/SUP-/,
      delayMs: 250,
      times: Number.POSITIVE_INFINITY,
    });
    let server = await start();
    expect(await sendRound(server, 'first')).toBe(ISSUES);
    const before = issueFetches();
    await until(async () => issueFetches() > before, 'a fetch in flight');
    await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS[0]));
    await kill();
    fake.faults.length = 0;

    // Rounds 2–4: killed at seeded moments after the last 200, while batches are written.
    for (const [round, delay] of KILL_AFTER_MS.slice(1).entries()) {
      // round + 2: the rounds after the first are 2, 3 and 4.
      server = await start();
      const started = Date.now();
      expect(await sendRound(server, `round ${round + 2}`)).toBe(ISSUES);
      await until(async () => (await newestRawDoc()) > started, 'a raw document written', 20_000);
      await new Promise((resolve) => setTimeout(resolve, delay));
      await kill();
    }

    // The kills did interrupt work: accepted events were left unapplied.
    expect(
      waitingAtKill.some((n) => n > 0),
      `waiting at each kill: ${waitingAtKill.join(', ')}`,
    ).toBe(true);

    // A clean start drains what the killed runs left.
    server = await start();
    await eventually(
      async () => (await jiraFiles(dataDir, 'inbox')).filter((f) => /^\d{8}T.*\.json$/.test(f)).length === 0,
      60_000,
      'an empty inbox',
    );
    expect((await jiraFiles(dataDir, 'failed')).length).toBe(0);
    // The last accepted event of every issue took effect.
    const issues = await shardRows(dataDir, 'issues');
    expect(issues).toHaveLength(ISSUES);
    for (const row of issues) expect(row.summary).toBe(`round 4 ${String(row.issue_key).slice(4)}`);
    // No row twice in any table.
    for (const entity of ENTITIES) {
      const rows = await shardRows(dataDir, entity);
      const text = (r: unknown) =>
        JSON.stringify(r, (_key, value) => (typeof value === 'bigint' ? String(value) : value));
      expect(new Set(rows.map(text)).size, entity).toBe(rows.length);
    }
    expect((await shardRows(dataDir, 'comments')).length).toBe(ISSUES * 2);
    expect((await shardRows(dataDir, 'changelog')).length).toBe(ISSUES * 3);
    await kill();

    // The same raw documents through a clean full re-transform give the same shards.
    const incremental = await Promise.all(ENTITIES.map((e) => shardRows(dataDir, e, 'ALL')));
    const result = await createJiraConnector().extract(
      {
        source: 'jira',
        type: 'jira',
        extractDir: join(dataDir, 'extracts', 'jira'),
        fullRefresh: true,
        tables: [],
        config: {
          baseUrl: fake.url,
          customFields: DEFAULT_CUSTOM_FIELDS,
          slaFields: { first_response: 'customfield_10328', time_to_resolution: 'customfield_10161' },
        },
      },
      { progress: () => undefined, env: {} },
    );
    expect(result.tables_failed).toEqual([]);
    expect(await Promise.all(ENTITIES.map((e) => shardRows(dataDir, e, 'ALL')))).toEqual(incremental);
    expect(
      (await readdir(join(dataDir, 'extracts', 'jira', 'data', 'issues'))).filter((f) =>
        f.endsWith('.parquet'),
      ),
    ).toEqual(['2024-01.parquet', '2024-02.parquet']);
  }, 180_000);
});

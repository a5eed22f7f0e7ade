import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createJiraConnector } from '../../src/connectors/jira/index.js';
import { openDuck, queryRows } from '../../src/core/duckdb/engine.js';
import { quoteLiteral } from '../../src/core/duckdb/sql.js';
import type { Connector } from '../../src/core/extract/connector.js';
import type { PushSource } from '../../src/core/extract/push.js';
import type { FakeJira } from '../fakes/jira.js';
import { type TestServer, withServer } from './server.js';

/** Jira test plumbing: the `jira:` section pointing at a fake, and what lies in `DATA_DIR/jira/`. */

export const WEBHOOK_SECRET = 'jira-webhook-secret-for-tests-0123456789';

/** The Jira connector with test timings: HTTP retries 10 ms apart instead of seconds. */
export const fastJira = createJiraConnector({ tuning: { retryDelayMs: 10, requestTimeoutMs: 5000 } });

/** `jira:` of instance.yaml for a fake Jira (the SLA overlay too when `sla` is set). */
export function jiraSection(
  fake: FakeJira,
  options: { secret?: string | null; sla?: boolean; extra?: Record<string, unknown> } = {},
): Record<string, unknown> {
  const secret = options.secret === undefined ? WEBHOOK_SECRET : options.secret;
  return {
    base_url: fake.url,
    email: fake.account.email,
    api_token: fake.account.token,
    ...(secret === null ? {} : { webhook_secret: secret }),
    rebuild_debounce_ms: 50,
    retry_base_ms: 20,
    ...(options.sla
      ? {
          sla: {
            base_url: `${fake.slaBaseUrl}`,
            cloud_id: 'cloud-1',
            email: fake.slaAccount.email,
            api_token: fake.slaAccount.token,
          },
        }
      : {}),
    ...options.extra,
  };
}

/** File names in `DATA_DIR/jira/<sub>` (empty when the directory does not exist). */
export async function jiraFiles(dataDir: string, sub: string): Promise<string[]> {
  return (await readdir(join(dataDir, 'jira', sub)).catch(() => [] as string[])).sort();
}

/** Rows of one Jira table read straight from its shards (what its view globs), ordered by `orderBy`. */
export async function shardRows(
  dataDir: string,
  entity: string,
  orderBy = 'issue_key',
): Promise<Record<string, unknown>[]> {
  const dir = join(dataDir, 'extracts', 'jira', 'data', entity);
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.parquet'));
  if (files.length === 0) return [];
  const duck = await openDuck();
  try {
    const list = files.map((f) => quoteLiteral(join(dir, f))).join(', ');
    return await queryRows(
      duck.conn,
      `SELECT * FROM read_parquet([${list}], union_by_name = true) ORDER BY ${orderBy}`,
    );
  } finally {
    duck.close();
  }
}

/** Shard file names of one Jira table. */
export async function shardNames(dataDir: string, entity: string): Promise<string[]> {
  const dir = join(dataDir, 'extracts', 'jira', 'data', entity);
  return (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.parquet')).sort();
}

/** Polls `check` every 25 ms until it returns true; fails after `timeoutMs`. */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The app with Jira configured against `fake` and its services (the worker) running. */
export async function startJiraServer(
  fake: FakeJira,
  options: { extra?: Record<string, unknown>; sla?: boolean; connector?: Connector } = {},
): Promise<{ server: TestServer; jira: PushSource }> {
  const server = await withServer({
    config: {
      jira: jiraSection(fake, { extra: options.extra ?? {}, ...(options.sla ? { sla: true } : {}) }),
    },
    connectors: [options.connector ?? fastJira],
    startServices: true,
  });
  return { server, jira: server.ctx.push.get('jira')! };
}

/** Until the inbox is empty: every accepted event has been applied (or moved to failed/). */
export function inboxEmpty(jira: PushSource, timeoutMs = 15_000): Promise<void> {
  return eventually(async () => (await jira.status()).queue_depth === 0, timeoutMs, 'an empty inbox');
}

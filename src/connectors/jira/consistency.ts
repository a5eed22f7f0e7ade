import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsistencyReport } from '../../contract/jira.js';
import { openDuck, queryRows } from '../../core/duckdb/engine.js';
import { quoteLiteral } from '../../core/duckdb/sql.js';
import { writeFileAtomic } from '../../core/fs/atomic.js';
import { type JiraClient, JiraError, utcOrNull } from './client.js';
import { isObject, readNoFollow } from './files.js';
import type { Inbox } from './inbox.js';
import type { RawStore } from './raw-store.js';

/**
 * The consistency check (07 §5.5, §5.7): compares the issues Jira reports as updated within
 * `[now − max_age_days, now − 5 min]` with the raw documents and the Parquet rows in the same
 * window, and queues the repairs: fetches for missing or outdated issues, deletes for issues Jira
 * confirms gone (a GET answering 404), re-transforms for issues missing from Parquet.
 */

export interface ConsistencyDeps {
  client: JiraClient;
  raw: RawStore;
  inbox: Inbox;
  /** `DATA_DIR/jira`: the report is written to `consistency-report.json` there. */
  jiraDir: string;
  extractDir: string;
  project: string;
  maxAgeDays: number;
  maxBackfill: number;
  wake(): void;
  signal?: AbortSignal;
  now?: () => number;
}

const LAG_MS = 5 * 60_000;
const REPORT_FILE = 'consistency-report.json';

export async function lastConsistencyReport(jiraDir: string): Promise<ConsistencyReport | null> {
  const text = await readNoFollow(join(jiraDir, REPORT_FILE)).catch(() => null);
  if (!text) return null;
  try {
    const parsed = JSON.parse(text) as unknown;
    return isObject(parsed) ? (parsed as unknown as ConsistencyReport) : null;
  } catch {
    return null;
  }
}

const inWindow = (iso: string | null, from: number, to: number) => {
  const time = iso ? Date.parse(iso) : Number.NaN;
  return time >= from && time <= to;
};

/** Issue keys of the Parquet shards whose `updated_at` falls in the window. */
async function parquetKeys(extractDir: string, from: number, to: number): Promise<Set<string>> {
  const dir = join(extractDir, 'data', 'issues');
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.parquet'));
  if (files.length === 0) return new Set();
  const duck = await openDuck(':memory:', { memoryLimit: '256MB', threads: 1 });
  try {
    const list = `[${files.map((f) => quoteLiteral(join(dir, f))).join(', ')}]`;
    const rows = await queryRows<{ issue_key: string }>(
      duck.conn,
      `SELECT DISTINCT issue_key FROM read_parquet(${list}, union_by_name = true)
       WHERE updated_at BETWEEN CAST(${quoteLiteral(new Date(from).toISOString())} AS TIMESTAMPTZ)
         AND CAST(${quoteLiteral(new Date(to).toISOString())} AS TIMESTAMPTZ)`,
    );
    return new Set(rows.map((r) => String(r.issue_key)));
  } finally {
    duck.close();
  }
}

export async function runConsistencyCheck(deps: ConsistencyDeps): Promise<ConsistencyReport> {
  const started = performance.now();
  const now = deps.now?.() ?? Date.now();
  const from = now - deps.maxAgeDays * 86_400_000;
  const to = now - LAG_MS;
  const project = deps.project ? `project = "${deps.project}" AND ` : '';
  const hits = await deps.client.search(`${project}updated >= -${deps.maxAgeDays}d AND updated <= -5m`);
  const jira = new Map(hits.map((h) => [h.key, h.updated]));

  const raw = new Map<string, { updated: string | null; synced: string | null }>();
  for (const key of await deps.raw.keys()) {
    const doc = await deps.raw.read(key).catch(() => null);
    if (doc && !doc._deleted_at)
      raw.set(key, { updated: utcOrNull(doc.fields.updated), synced: utcOrNull(doc._synced_at) });
  }
  const rawInWindow = new Set([...raw].filter(([, r]) => inWindow(r.updated, from, to)).map(([key]) => key));
  const parquet = await parquetKeys(deps.extractDir, from, to);

  const missingInRaw = [...jira.keys()].filter((key) => !raw.has(key)).sort();
  const outdated = [...jira]
    .filter(([key, updated]) => {
      const local = raw.get(key);
      return local && updated && local.synced && Date.parse(updated) > Date.parse(local.synced);
    })
    .map(([key]) => key)
    .sort();
  const missingInParquet = [...rawInWindow].filter((key) => !parquet.has(key)).sort();
  const absent = [...new Set([...rawInWindow, ...parquet])].filter((key) => !jira.has(key)).sort();
  const deletedInJira: string[] = [];
  for (const key of absent) {
    if (deps.signal?.aborted) break;
    try {
      await deps.client.issue(key);
    } catch (error) {
      if (error instanceof JiraError && error.code === 'not_found') deletedInJira.push(key);
      else throw error;
    }
  }

  const repairs: { key: string; event: string }[] = [
    ...[...missingInRaw, ...outdated].map((key) => ({ key, event: 'agnes:backfill' })),
    ...deletedInJira.map((key) => ({ key, event: 'agnes:issue_gone' })),
  ];
  const enqueue = repairs.slice(0, deps.maxBackfill);
  const retransform = missingInParquet.filter((key) => !enqueue.some((r) => r.key === key));
  for (const repair of [...enqueue, ...retransform.map((key) => ({ key, event: 'agnes:retransform' }))]) {
    await deps.inbox.append({
      ...deps.inbox.stamp(),
      event: repair.event,
      issue_key: repair.key,
      issue_ids: [],
      payload: { source: 'consistency_check' },
    });
  }
  if (enqueue.length + retransform.length > 0) deps.wake();

  const capped = repairs.length - enqueue.length;
  const total = missingInRaw.length + missingInParquet.length + deletedInJira.length + outdated.length;
  const report: ConsistencyReport = {
    timestamp: new Date(now).toISOString(),
    window: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
    counts: { jira: jira.size, raw: rawInWindow.size, parquet: parquet.size },
    discrepancies: {
      missing_in_raw: missingInRaw,
      missing_in_parquet: missingInParquet,
      deleted_in_jira: deletedInJira,
      outdated,
    },
    actions: { enqueued: enqueue.length, capped },
    alert_level: total > 10 || capped > 0 ? 'error' : total > 5 ? 'warning' : 'info',
    duration_ms: Math.round(performance.now() - started),
  };
  await writeFileAtomic(join(deps.jiraDir, REPORT_FILE), JSON.stringify(report));
  return report;
}

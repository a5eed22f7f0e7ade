import { resolve } from 'node:path';
import type { ExtractContext, ExtractInput, ExtractResult } from '../../core/extract/connector.js';
import { sanitizeDetail } from '../../core/orchestrator/sanitize.js';
import type { TransformSettings } from './config.js';
import { RawStore } from './raw-store.js';
import { writeShards } from './shards.js';
import { tableColumns } from './tables.js';
import { type IssueRows, transformIssue } from './transform.js';

/** The full re-transform waits this long for the worker to release the write lock. */
const LOCK_WAIT_MS = 10 * 60_000;

/** `DATA_DIR/extracts/jira` → `DATA_DIR/jira`. */
function jiraDirOf(extractDir: string): string {
  return resolve(extractDir, '..', '..', 'jira');
}

/**
 * The full re-transform (07 §5.3, §5.7; `agnes extract --source jira`): every shard rebuilt from
 * the raw documents, deleted issues left out, shards no longer written removed. Needs no network.
 */
export async function retransformJira(input: ExtractInput, context: ExtractContext): Promise<ExtractResult> {
  const started = performance.now();
  const settings = input.config as TransformSettings;
  const raw = new RawStore(jiraDirOf(input.extractDir));
  const issues: IssueRows[] = [];
  let damaged = 0;
  for (const key of await raw.keys()) {
    try {
      const doc = await raw.read(key);
      if (doc && !doc._deleted_at) issues.push(transformIssue(doc, settings));
    } catch {
      damaged += 1;
    }
  }
  if (damaged > 0) context.progress(`jira: ${damaged} raw document(s) could not be read and were left out`);
  context.progress(`jira: re-transforming ${issues.length} issue(s)`);
  const requested = new Set(input.tables.map((t) => t.id));
  try {
    const result = await writeShards(
      input.extractDir,
      tableColumns(settings.customFields),
      { upserts: issues, removed: [] },
      { full: true, lockWaitMs: LOCK_WAIT_MS },
    );
    return {
      tables_extracted: result.published.filter((name) => requested.has(name)),
      tables_failed: result.failed.filter((f) => requested.has(f.table)),
      watermarks: {},
      duration_ms: Math.round(performance.now() - started),
    };
  } catch (error) {
    return {
      tables_extracted: [],
      tables_failed: [...requested].map((table) => ({
        table,
        code: 'extract_failed',
        message: sanitizeDetail(error),
      })),
      watermarks: {},
      duration_ms: Math.round(performance.now() - started),
    };
  }
}

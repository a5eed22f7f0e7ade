import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  LLMAuthError,
  LLMFormatError,
  LLMRefusalError,
  LLMUnsupportedError,
  type LlmClient,
} from '../../connectors/llm/index.js';
import { MEMORY_IMPORT_MAX_ITEMS, type MemoryImportItem } from '../../contract/index.js';
import { hasRole } from '../../core/access/roles.js';
import type { InstanceConfig } from '../../core/config/index.js';
import { DIR_MODE } from '../../core/fs/atomic.js';
import { acquireLock, LockTimeoutError } from '../../core/fs/lock-file.js';
import { contentHash, normalizeTitle } from '../../core/memory/normalize.js';
import { Cursor } from './cursor.js';
import {
  type CandidateItem,
  type CatalogEntry,
  extractionRequest,
  screenRequest,
  validItems,
} from './extraction.js';
import { type CollectorInput, collectorInputs, readInput, SESSION_TEXT_MAX_CHARS } from './inputs.js';
import { CollectorAccountError, type CollectorPort } from './port.js';
import { containsSecret, redactSecrets } from './redact.js';
import { lastChars } from './transcript.js';

export interface CollectorDeps {
  dataDir: string;
  config: Pick<InstanceConfig, 'corporate_memory' | 'limits'>;
  /** Undefined for provider `none`: the collector stays idle. */
  llm: LlmClient | undefined;
  port: CollectorPort;
  log: Logger;
  /** `--dry-run`: each would-be item goes here as one JSON line; nothing is stored. */
  dryRun?: (line: string) => void;
}

export interface CollectorCounts {
  files: number;
  processed: number;
  completed: number;
  failed: number;
  gave_up: number;
  items_new: number;
  items_updated: number;
  items_skipped: number;
  items_filtered: number;
  items_invalid: number;
}

/** How a run ended; `exitCode` is what `--once` exits with (08 §4.3). */
export interface CollectorReport {
  outcome: 'completed' | 'failed' | 'idle' | 'busy' | 'account';
  exitCode: 0 | 1 | 3;
  counts: CollectorCounts;
}

const emptyCounts = (): CollectorCounts => ({
  files: 0,
  processed: 0,
  completed: 0,
  failed: 0,
  gave_up: 0,
  items_new: 0,
  items_updated: 0,
  items_skipped: 0,
  items_filtered: 0,
  items_invalid: 0,
});

const CURSOR_SAVE_INTERVAL_MS = 1000;

/** The collector's own directory below DATA_DIR: cursor and lock. */
export const collectorDir = (dataDir: string) => join(dataDir, 'services', 'corporate-memory');

/**
 * A failure of the file's own content (the model could not make sense of it even once more),
 * which counts toward the three strikes; outages, rate limits and app errors do not.
 */
const isContentFailure = (error: unknown) =>
  error instanceof LLMFormatError || error instanceof LLMRefusalError;

/** Failures no other file can get past either: the rest of the run is pointless. */
const isFatal = (error: unknown) => error instanceof LLMAuthError || error instanceof LLMUnsupportedError;

/** A format error or a refusal is asked once more (08 §4.3); other errors were retried by the client. */
async function askTwice<T>(ask: () => Promise<T>): Promise<T> {
  try {
    return await ask();
  } catch (error) {
    if (!isContentFailure(error)) throw error;
    return ask();
  }
}

async function checkAccount(port: CollectorPort): Promise<void> {
  const account = await port.account();
  if (!account.is_service || !hasRole(account.role, 'km_admin'))
    throw new CollectorAccountError('the token must belong to a service account with the km_admin role');
}

/**
 * One collector run (08 §4.1, §4.3). The account is checked before any LLM call; one run at a time
 * holds the lock; every file is redacted before its one extraction call, its items screened, and
 * imported before its cursor entry advances. Logs carry counts only, never content or paths.
 */
export async function runCollector(deps: CollectorDeps): Promise<CollectorReport> {
  const counts = emptyCounts();
  const { log } = deps;
  try {
    await checkAccount(deps.port);
  } catch (error) {
    if (!(error instanceof CollectorAccountError)) throw error;
    log.error({ reason: error.message }, 'corporate memory: account refused');
    return { outcome: 'account', exitCode: 3, counts };
  }
  if (!deps.llm) {
    log.info({ provider: 'none' }, 'corporate memory: no LLM provider configured; idle');
    return { outcome: 'idle', exitCode: 0, counts };
  }
  const dir = collectorDir(deps.dataDir);
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  let lock: Awaited<ReturnType<typeof acquireLock>>;
  try {
    lock = await acquireLock(join(dir, 'collector.lock'), { waitMs: 0, staleMs: 24 * 3_600_000 });
  } catch (error) {
    if (!(error instanceof LockTimeoutError)) throw error;
    log.warn({}, 'corporate memory: another collector is running; this run is skipped');
    return { outcome: 'busy', exitCode: 1, counts };
  }
  try {
    await collect({ ...deps, llm: deps.llm }, counts);
  } finally {
    await lock.release();
  }
  log.info({ ...counts, dry_run: Boolean(deps.dryRun) }, 'corporate memory: run finished');
  const failed = counts.failed > 0;
  return { outcome: failed ? 'failed' : 'completed', exitCode: failed ? 1 : 0, counts };
}

async function collect(deps: CollectorDeps & { llm: LlmClient }, counts: CollectorCounts): Promise<void> {
  const { config, port, log } = deps;
  const cursorPath = join(collectorDir(deps.dataDir), 'cursor.json');
  const cursor = await Cursor.load(cursorPath);
  const inputs = await collectorInputs(
    join(deps.dataDir, 'uploads'),
    {
      localMdMaxBytes: config.limits.local_md_max_bytes,
      sessionMaxBytes: config.limits.upload_max_bytes,
      includeSessions: config.corporate_memory.include_sessions,
    },
    (ids) => (ids.length === 0 ? Promise.resolve(new Set<string>()) : port.activeUsers(ids)),
  );
  counts.files = inputs.length;
  const runId = randomUUID();
  // Saved at most once a second and at the end: a crash in between only means a few files are
  // extracted again, and the import deduplicates what they give.
  let savedAt = performance.now();
  let dirty = !deps.dryRun && cursor.retainOnly(new Set(inputs.map((input) => input.key)));
  // Items wait for a full chunk of 100, their files for the import that carries their items.
  const buffered: MemoryImportItem[] = [];
  const awaiting: { key: string; sha256: string }[] = [];

  const fail = (key: string, sha256: string, error: unknown, kind: CollectorInput['kind']) => {
    counts.failed += 1;
    if (!deps.dryRun && isContentFailure(error)) cursor.failed(key, sha256);
    dirty = true;
    log.warn(
      { error: error instanceof Error ? error.name : 'unknown', kind },
      'corporate memory: file failed',
    );
  };

  const flush = async () => {
    const files = awaiting.splice(0);
    const items = buffered.splice(0);
    try {
      for (let start = 0; start < items.length; start += MEMORY_IMPORT_MAX_ITEMS) {
        const result = await port.importItems({
          run_id: runId,
          items: items.slice(start, start + MEMORY_IMPORT_MAX_ITEMS),
        });
        counts.items_new += result.created.length;
        counts.items_updated += result.updated.length;
        counts.items_skipped += result.skipped.length;
      }
    } catch (error) {
      counts.failed += files.length;
      log.warn(
        { error: error instanceof Error ? error.name : 'unknown', files: files.length },
        'corporate memory: import failed',
      );
      return;
    }
    for (const file of files) cursor.completed(file.key, file.sha256);
    counts.completed += files.length;
    dirty = true;
  };

  try {
    for (const input of inputs) {
      let read: { sha256: string; text: string };
      try {
        read = await readInput(input);
      } catch {
        counts.failed += 1;
        continue;
      }
      const decision = cursor.decide(input.key, read.sha256);
      if (decision === 'gave_up') counts.gave_up += 1;
      if (decision !== 'process') continue;
      counts.processed += 1;
      let outcome: FileOutcome;
      try {
        outcome = await collectFile(deps, input, read.text, counts);
      } catch (error) {
        fail(input.key, read.sha256, error, input.kind);
        if (isFatal(error)) break;
        continue;
      }
      if (deps.dryRun) for (const item of outcome.accepted) deps.dryRun(JSON.stringify(item));
      else buffered.push(...outcome.accepted);
      if (outcome.screeningFailure) fail(input.key, read.sha256, outcome.screeningFailure, input.kind);
      else if (deps.dryRun) counts.completed += 1;
      else awaiting.push({ key: input.key, sha256: read.sha256 });
      if (isFatal(outcome.screeningFailure)) break;
      if (buffered.length >= MEMORY_IMPORT_MAX_ITEMS) await flush();
      if (!deps.dryRun && dirty && performance.now() - savedAt >= CURSOR_SAVE_INTERVAL_MS) {
        await cursor.save();
        savedAt = performance.now();
        dirty = false;
      }
    }
  } finally {
    if (!deps.dryRun) {
      await flush();
      if (dirty) await cursor.save();
    }
  }
}

/** Existing ids the catalog knows, by id, normalised title and content hash. */
function catalogIndex(catalog: readonly CatalogEntry[]) {
  const ids = new Set(catalog.map((entry) => entry.id));
  const byTitle = new Map(catalog.map((entry) => [normalizeTitle(entry.title), entry.id]));
  const byHash = new Map(catalog.map((entry) => [contentHash(entry.content), entry.id]));
  return (item: CandidateItem): string | null => {
    if (item.existing_id && ids.has(item.existing_id)) return item.existing_id;
    return byTitle.get(normalizeTitle(item.title)) ?? byHash.get(contentHash(item.content)) ?? null;
  };
}

interface FileOutcome {
  /** Items that passed every check, ready to import. */
  accepted: MemoryImportItem[];
  /** The first error of a screening call: the file did not complete (its safe items still count). */
  screeningFailure: unknown;
}

async function collectFile(
  deps: CollectorDeps & { llm: LlmClient },
  input: CollectorInput,
  text: string,
  counts: CollectorCounts,
): Promise<FileOutcome> {
  const { config, llm, port } = deps;
  const categories = config.corporate_memory.categories;
  // Redact first, cut second: a cut through a key block must not leave half of it unredacted.
  const notes = lastChars(redactSecrets(text), SESSION_TEXT_MAX_CHARS).trim();
  if (!notes) return { accepted: [], screeningFailure: null };
  const catalog = await port.catalog(config.corporate_memory.catalog_context_items);
  const answer = await askTwice(() =>
    llm.extractJson<unknown>(extractionRequest(notes, catalog, categories)),
  );
  const { items, invalid } = validItems(answer.value, categories);
  counts.items_invalid += invalid;
  const existingId = catalogIndex(catalog);

  const accepted: MemoryImportItem[] = [];
  let screeningFailure: unknown = null;
  for (const item of items) {
    if ([item.title, item.content, ...item.tags].some(containsSecret)) {
      counts.items_filtered += 1;
      continue;
    }
    let safe = false;
    try {
      const verdict = await askTwice(() => llm.extractJson<{ safe: boolean }>(screenRequest(item)));
      safe = verdict.value.safe === true;
    } catch (error) {
      // Fail closed: an item the screen could not judge is not stored.
      screeningFailure ??= error;
      if (isFatal(error)) break;
    }
    if (!safe) {
      counts.items_filtered += 1;
      continue;
    }
    accepted.push({ ...item, existing_id: existingId(item), contributors: [input.userId] });
  }
  return { accepted, screeningFailure };
}

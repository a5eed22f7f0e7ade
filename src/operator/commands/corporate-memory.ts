import { createLlmClient } from '../../connectors/llm/index.js';
import type {
  MemoryContributorsResult,
  MemoryImportRequest,
  MemoryImportResult,
  Role,
} from '../../contract/index.js';
import { runCollector } from '../../services/corporate-memory/collector.js';
import type { CatalogEntry } from '../../services/corporate-memory/extraction.js';
import { CollectorAccountError, type CollectorPort } from '../../services/corporate-memory/port.js';
import { CycleLoop } from '../../services/cycle-loop.js';
import { loadInstance } from '../instance.js';
import { ServiceClient, ServiceRefusal, ServiceSetupError, serviceEndpoint } from '../service-client.js';
import { exitAfterStop, STOP_GRACE_MS, stopSignal } from '../service-process.js';

const PER_PAGE = 200;
const CONTRIBUTOR_CHUNK = 1000;

interface CatalogPage {
  items: { id: string; title: string; category: string | null; content: string | null }[];
  total: number;
}

/** A refused or unreadable token is an account problem (exit 3), not a failed file. */
async function asAccount<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ServiceSetupError) throw new CollectorAccountError(error.message);
    if (error instanceof ServiceRefusal && (error.status === 401 || error.status === 403))
      throw new CollectorAccountError(`the app refused the token (${error.status})`);
    throw error;
  }
}

/** The collector's view of the app over HTTP (03 §2 `/auth/me`, §13 memory routes). */
export function httpCollectorPort(client: ServiceClient): CollectorPort {
  return {
    async account() {
      const me = (await asAccount(() => client.get('/auth/me'))) as { is_service: boolean; role: Role };
      return { is_service: me.is_service === true, role: me.role };
    },
    async activeUsers(ids) {
      const active = new Set<string>();
      for (let start = 0; start < ids.length; start += CONTRIBUTOR_CHUNK) {
        const body = { user_ids: ids.slice(start, start + CONTRIBUTOR_CHUNK) };
        const answer = (await client.post(
          '/api/memory/admin/contributors',
          body,
        )) as MemoryContributorsResult;
        for (const id of answer.active) active.add(id);
      }
      return active;
    },
    async catalog(limit) {
      const entries: CatalogEntry[] = [];
      for (let page = 1; entries.length < limit; page++) {
        const query = new URLSearchParams({
          status: 'approved,pending',
          sort: 'updated_at',
          order: 'desc',
          page: String(page),
          per_page: String(Math.min(PER_PAGE, limit)),
        });
        const answer = (await client.get(`/api/memory?${query}`)) as CatalogPage;
        for (const item of answer.items)
          entries.push({
            id: item.id,
            title: item.title,
            category: item.category,
            content: item.content ?? '',
          });
        if (answer.items.length === 0 || page * Math.min(PER_PAGE, limit) >= answer.total) break;
      }
      return entries.slice(0, limit);
    },
    async importItems(request: MemoryImportRequest) {
      return (await client.post('/api/memory/admin/import', request)) as MemoryImportResult;
    },
  };
}

/**
 * `agnes corporate-memory [--once] [--dry-run]` (08 §4.1): learns knowledge items from the
 * analysts' uploaded notes with the configured LLM and submits them through the app's API with a
 * km_admin service account's token. `--once` returns the run's exit code (0, 1, or 3 for the
 * account); without it the collector runs every `corporate_memory.schedule` until SIGTERM.
 */
export async function corporateMemoryCommand(options: { once?: boolean; dryRun?: boolean }): Promise<number> {
  // With --dry-run stdout carries the would-be items, so logs go to stderr.
  const instance = loadInstance({ syncLogs: true, logToStderr: options.dryRun === true });
  const { config, dataDir } = instance.loaded;
  const log = instance.log.child({ service: 'corporate-memory' });
  let client: ServiceClient;
  try {
    client = new ServiceClient(serviceEndpoint(instance.env));
  } catch (error) {
    if (!(error instanceof ServiceSetupError)) throw error;
    log.error({ reason: error.message }, 'corporate memory: account refused');
    return 3;
  }
  const llm = createLlmClient(config.llm, { logger: log });
  const run = () =>
    runCollector({
      dataDir,
      config,
      llm,
      port: httpCollectorPort(client),
      log,
      ...(options.dryRun ? { dryRun: (line: string) => process.stdout.write(`${line}\n`) } : {}),
    });
  if (options.once || options.dryRun) return (await run()).exitCode;

  const loop = new CycleLoop({
    schedule: config.corporate_memory.schedule,
    timeZone: config.scheduler.timezone,
    cycle: run,
    log,
  });
  const signal = stopSignal();
  loop.start();
  log.info({ schedule: config.corporate_memory.schedule }, 'corporate memory collector started');
  log.info({ signal: await signal }, 'corporate memory collector stopping');
  return exitAfterStop(log, 'corporate memory collector', () => loop.stop(STOP_GRACE_MS));
}

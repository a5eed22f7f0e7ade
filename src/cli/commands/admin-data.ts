import { setTimeout as sleep } from 'node:timers/promises';
import type {
  DiscoveredTables,
  Job,
  RebuildReport,
  RegisteredTable,
  RegistryList,
  RegistryUpdated,
  SyncTriggerResponse,
} from '../../contract/index.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { toTable } from '../format.js';
import { adminClient } from './admin.js';

/** `da admin tables|rebuild|sync` (06 §5.3 administration). */

const enc = encodeURIComponent;
const JOB_POLL_MS = 1000;
const FINISHED = new Set(['succeeded', 'partial', 'failed', 'interrupted']);

export interface TableFlags {
  id?: string;
  source?: string;
  bucket?: string;
  sourceTable?: string;
  strategy?: string;
  primaryKey?: string;
  queryMode?: string;
  schedule?: string;
  public?: boolean;
  hidden?: boolean;
  description?: string;
}

/** RegistryInput fields (03 §12 administration) from the flags that were given. */
function registryInput(flags: TableFlags): Record<string, unknown> {
  const input: Record<string, unknown> = {
    source: flags.source,
    bucket: flags.bucket,
    source_table: flags.sourceTable,
    sync_strategy: flags.strategy,
    primary_key: flags.primaryKey
      ?.split(',')
      .map((k) => k.trim())
      .filter(Boolean),
    query_mode: flags.queryMode,
    sync_schedule: flags.schedule,
    is_public: flags.public,
    is_discoverable: flags.hidden === undefined ? undefined : !flags.hidden,
    description: flags.description,
  };
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
}

export async function tablesList(ctx: CliContext, options: { source?: string }): Promise<void> {
  const client = await adminClient(ctx);
  const body = await client.json<RegistryList>('GET', '/api/admin/registry', {
    query: { source: options.source },
  });
  ctx.out.result(body, () =>
    body.tables.length > 0
      ? toTable({
          columns: ['id', 'name', 'source', 'mode', 'strategy', 'public'],
          rows: body.tables.map((t) => [
            t.id,
            t.name,
            t.source,
            t.query_mode,
            t.sync_strategy,
            t.is_public ? 'yes' : 'no',
          ]),
        })
      : 'No registered tables.',
  );
}

/** Registers one table; an id that exists already is reported and is not an error (06 §5.3 administration). */
async function register(
  ctx: CliContext,
  body: Record<string, unknown>,
): Promise<{ id: string; status: RegisteredTable['status'] | 'exists' }> {
  const client = await adminClient(ctx);
  try {
    return await client.json<RegisteredTable>('POST', '/api/admin/register-table', { body });
  } catch (error) {
    if (error instanceof CliError && error.code === 'already_registered')
      return { id: String(body.id ?? body.name), status: 'exists' };
    throw error;
  }
}

export async function tablesRegister(ctx: CliContext, flags: TableFlags, name: string): Promise<void> {
  if (!flags.source) throw new CliError(EXIT.usage, 'missing --source', 'usage');
  const result = await register(ctx, {
    name,
    ...(flags.id ? { id: flags.id } : {}),
    ...registryInput(flags),
  });
  ctx.out.result(result, () =>
    result.status === 'exists' ? `Already exists: ${result.id}` : `Registered ${result.id}`,
  );
}

export async function tablesUpdate(ctx: CliContext, flags: TableFlags, id: string): Promise<void> {
  const input = registryInput(flags);
  if (Object.keys(input).length === 0)
    throw new CliError(EXIT.usage, 'nothing to change; pass a flag to update', 'usage');
  const client = await adminClient(ctx);
  const body = await client.json<RegistryUpdated>('PUT', `/api/admin/registry/${enc(id)}`, {
    body: input,
  });
  ctx.out.result(body, () => `Updated ${body.id}: ${body.updated.join(', ')}`);
}

export async function tablesUnregister(ctx: CliContext, id: string): Promise<void> {
  const client = await adminClient(ctx);
  await client.request('DELETE', `/api/admin/registry/${enc(id)}`);
  ctx.out.result({ unregistered: id }, () => `Unregistered ${id} (its data stays, admin-only)`);
}

export async function tablesDiscover(
  ctx: CliContext,
  options: { source?: string; register?: boolean; dryRun?: boolean },
): Promise<number> {
  const client = await adminClient(ctx);
  const found = await client.json<DiscoveredTables>('GET', '/api/admin/discover-tables', {
    query: { source: options.source },
  });
  const candidates = found.tables.filter((t) => !t.registered);
  const registered: string[] = [];
  if (options.register && !options.dryRun) {
    for (const t of candidates) {
      const result = await register(ctx, {
        name: t.name,
        id: t.suggested_id,
        source: t.source,
        source_type: t.source_type,
        bucket: t.bucket,
        source_table: t.source_table,
        ...(t.primary_key.length > 0 ? { primary_key: t.primary_key } : {}),
      });
      registered.push(result.id);
    }
  }
  const failedSources = found.sources.filter((s) => s.status === 'error');
  ctx.out.result({ ...found, registered }, () =>
    [
      found.tables.length > 0
        ? toTable({
            columns: ['id', 'source', 'source table', 'rows', 'registered'],
            rows: found.tables.map((t) => [
              t.suggested_id,
              t.source,
              t.source_table,
              t.rows,
              t.registered || registered.includes(t.suggested_id) ? 'yes' : 'no',
            ]),
          })
        : 'No tables found.',
      ...(options.register && options.dryRun
        ? [`Would register: ${candidates.map((t) => t.suggested_id).join(', ') || 'nothing'}`]
        : []),
      ...(registered.length > 0 ? [`Registered: ${registered.join(', ')}`] : []),
      ...failedSources.map((s) => `source ${s.name}: ${s.error ?? 'discovery failed'}`),
    ].join('\n'),
  );
  return failedSources.length > 0 ? EXIT.failed : EXIT.ok;
}

export async function rebuild(ctx: CliContext, options: { source?: string }): Promise<number> {
  const client = await adminClient(ctx);
  const report = await client.json<RebuildReport>('POST', '/api/admin/rebuild', {
    query: { source: options.source },
  });
  const failed = Object.entries(report.sources).filter(([, s]) => s.status === 'failed');
  ctx.out.result(report, () =>
    [
      `Rebuilt generation ${report.generation}: ${report.views} views in ${(report.duration_ms / 1000).toFixed(1)} s`,
      ...Object.entries(report.sources).map(
        ([name, s]) =>
          `  ${name}: ${s.status}${s.reason ? ` (${s.reason})` : ''}, ${s.tables.length + s.remote_tables.length} tables${s.skipped_tables.length ? `, skipped ${s.skipped_tables.map((t) => `${t.table} (${t.reason})`).join(', ')}` : ''}`,
      ),
    ].join('\n'),
  );
  return failed.length > 0 ? EXIT.failed : EXIT.ok;
}

export async function adminSync(
  ctx: CliContext,
  options: { table: string[]; source?: string; wait?: boolean },
): Promise<number> {
  const client = await adminClient(ctx);
  const body: Record<string, unknown> = {};
  if (options.table.length > 0) body.tables = options.table;
  if (options.source) body.source = options.source;
  const triggered = await client.json<SyncTriggerResponse>('POST', '/api/sync/trigger', { body });
  if (!options.wait) {
    ctx.out.result(
      triggered,
      () =>
        [
          ...triggered.jobs.map((j) => `Job ${j.id} (${j.source}) ${j.status}: ${j.tables.join(', ')}`),
          ...triggered.skipped.map((s) => `  skipped ${s.table}: ${s.reason}`),
        ].join('\n') || 'Nothing to sync.',
    );
    return EXIT.ok;
  }
  const jobs: Job[] = [];
  for (const job of triggered.jobs) {
    let current = await client.json<Job>('GET', `/api/sync/jobs/${enc(job.id)}`);
    while (!FINISHED.has(current.status)) {
      ctx.out.info(`job ${current.id}: ${current.status}`);
      await sleep(JOB_POLL_MS);
      current = await client.json<Job>('GET', `/api/sync/jobs/${enc(job.id)}`);
    }
    jobs.push(current);
  }
  ctx.out.result(
    { jobs, skipped: triggered.skipped },
    () =>
      jobs
        .map((j) => `Job ${j.id} (${j.source ?? 'all'}) ${j.status}${j.error ? `: ${j.error}` : ''}`)
        .join('\n') || 'Nothing to sync.',
  );
  return jobs.some((j) => j.status !== 'succeeded') ? EXIT.failed : EXIT.ok;
}

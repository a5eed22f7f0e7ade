import { type CliContext, connect } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { lockSyncDirectory } from '../sync/lock.js';
import { layoutOf } from '../sync/paths.js';
import { runSync, type SyncReport } from '../sync/run.js';
import { loadState, saveState } from '../sync/state.js';
import { type UploadReport, uploadLocalFiles } from '../sync/uploads.js';

export interface SyncCommandOptions {
  table: string[];
  dataset?: string;
  parallel: number;
  dryRun: boolean;
  verify: boolean;
  prune: boolean;
  uploadOnly: boolean;
}

function size(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function summary(report: SyncReport, dryRun: boolean): string {
  const lines = [
    `${dryRun ? 'Plan for a sync' : 'Synced'} from ${report.server} (generation ${report.generation ?? '—'})`,
  ];
  if (dryRun) {
    lines.push(
      `  would download ${report.planned?.length ?? 0} files, ${size((report.planned ?? []).reduce((s, p) => s + p.bytes, 0))}`,
    );
  } else {
    const files = report.downloaded.reduce((sum, d) => sum + d.files, 0);
    lines.push(
      `  downloaded  ${report.downloaded.length} tables, ${files} files, ${size(report.bytes_downloaded)} in ${(report.duration_ms / 1000).toFixed(1)} s`,
    );
  }
  lines.push(
    `  unchanged   ${report.unchanged.length}   removed ${report.removed.length}   remote ${report.remote.length}${report.remote.length ? ' (query with --remote)' : ''}`,
  );
  if (report.errors.length > 0) {
    lines.push(`  errors      ${report.errors.length}`);
    for (const e of report.errors) lines.push(`    ${e.table}${e.file ? `/${e.file}` : ''}: ${e.message}`);
  }
  return lines.join('\n');
}

async function uploadOnly(ctx: CliContext): Promise<UploadReport> {
  const { server, client } = await connect(ctx, { requireAuth: true });
  const layout = layoutOf(ctx.localDir);
  await ctx.store.ensureSyncDir();
  const lock = await lockSyncDirectory(layout.lockPath);
  try {
    const statePath = ctx.store.syncStatePath(server, ctx.localDir);
    const state = await loadState(statePath, server, ctx.localDir);
    return await uploadLocalFiles(client, state, layout, () => saveState(statePath, state));
  } finally {
    await lock.release();
  }
}

/** `da sync` (06 §5.2 data, §6, §7): exit 1 when any table or upload failed. */
export async function sync(ctx: CliContext, options: SyncCommandOptions): Promise<number> {
  if (options.uploadOnly) {
    const report = await uploadOnly(ctx);
    ctx.out.result(report, () =>
      [
        `Uploaded ${report.sessions_uploaded} session file(s), ${report.sessions_skipped} unchanged; local notes ${report.local_md}`,
        ...report.errors.map((e) => `  ${e.table}: ${e.message}`),
      ].join('\n'),
    );
    return report.errors.length > 0 ? EXIT.failed : EXIT.ok;
  }
  if (!Number.isInteger(options.parallel) || options.parallel < 1 || options.parallel > 16) {
    throw new CliError(EXIT.usage, '--parallel must be between 1 and 16', 'usage');
  }
  const report = await runSync(ctx, {
    tables: options.table,
    dataset: options.dataset,
    parallel: options.parallel,
    dryRun: options.dryRun,
    verify: options.verify,
    prune: options.prune,
  });
  ctx.out.result(report, () => summary(report, options.dryRun));
  return report.errors.length > 0 && !options.dryRun ? EXIT.failed : EXIT.ok;
}

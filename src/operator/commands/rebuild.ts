import type { RebuildReport } from '../../core/orchestrator/report.js';
import { loadInstance, NO_SECRETS, openRuntime } from '../instance.js';
import { printJson } from '../output.js';

function summary(report: RebuildReport): string {
  const lines = [
    `generation ${report.generation} (${report.mode}${report.escalated_from ? `, escalated from ${report.escalated_from}` : ''}): ${report.views} views in ${report.duration_ms} ms`,
  ];
  for (const [name, source] of Object.entries(report.sources)) {
    const tables = source.tables.length + source.remote_tables.length;
    lines.push(
      `  ${name}: ${source.status}${source.reason ? ` (${source.reason})` : ''}, ${tables} table(s)`,
    );
    for (const skipped of source.skipped_tables)
      lines.push(`    skipped ${skipped.table}: ${skipped.reason} — ${skipped.detail}`);
  }
  for (const c of report.collisions)
    lines.push(`  collision: ${c.table} kept from ${c.kept}, dropped from ${c.dropped}`);
  for (const e of report.skipped_entries)
    lines.push(`  skipped entry ${JSON.stringify(e.entry)}: ${e.reason}`);
  return lines.join('\n');
}

/** `agnes rebuild [--source NAME] [--json]`: exit 1 when any source failed. */
export async function rebuild(options: { source?: string; json?: boolean }): Promise<number> {
  const instance = loadInstance({ logToStderr: true });
  const ctx = await openRuntime(instance, NO_SECRETS);
  try {
    const pauseAt = process.env.AGNES_TEST_REBUILD_PAUSE_AT;
    if (pauseAt) installPause(ctx.orchestrator, pauseAt);
    const report = options.source
      ? await ctx.orchestrator.rebuildSource(options.source)
      : await ctx.orchestrator.rebuild();
    if (options.json) printJson(report);
    else process.stdout.write(`${summary(report)}\n`);
    return Object.values(report.sources).some((s) => s.status === 'failed') ? 1 : 0;
  } finally {
    await ctx.close();
  }
}

/**
 * Fault-test seam (10 §2 R1): with AGNES_TEST_REBUILD_PAUSE_AT set to a point name, the run stops
 * there, says so on stderr and waits to be killed.
 */
function installPause(
  orchestrator: { setPause(fn: (point: string) => Promise<void>): void },
  point: string,
): void {
  orchestrator.setPause(async (reached) => {
    if (reached !== point) return;
    process.stderr.write(`PAUSED ${reached}\n`);
    // An unsettled promise alone keeps nothing alive: Node would exit (code 13) with the lock
    // and temp file left behind, instead of holding them until the test kills the process.
    await new Promise(() => setInterval(() => undefined, 1 << 30));
  });
}

import type { RebuildReport, SkippedEntry, SourceReport } from './report.js';
import type { SourceOutcome } from './source-builder.js';

/** The rebuild report (02 §2.7) of one run from its sources' outcomes; `started` is `performance.now()` at its start. */
export function runReport(
  mode: 'full' | 'source',
  source: string | null,
  escalatedFrom: string | null,
  startedAt: Date,
  started: number,
  generation: number,
  outcomes: readonly SourceOutcome[],
  skipped: SkippedEntry[],
): RebuildReport {
  const sources: Record<string, SourceReport> = {};
  for (const outcome of outcomes) sources[outcome.source] = outcome.report;
  const durationMs = Math.round(performance.now() - started);
  return {
    generation,
    mode,
    source,
    escalated_from: escalatedFrom,
    started_at: startedAt.toISOString(),
    finished_at: new Date(startedAt.getTime() + durationMs).toISOString(),
    duration_ms: durationMs,
    views: outcomes.reduce((sum, o) => sum + o.published.length, 0),
    sources,
    collisions: outcomes.flatMap((o) => o.collisions),
    skipped_entries: skipped,
  };
}

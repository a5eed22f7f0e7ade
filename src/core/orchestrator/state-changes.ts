import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { SyncHistoryTable, SyncStateTable } from '../state/schema.js';
import type { SkipReason } from './report.js';
import type { PublishedTable, SourceOutcome } from './source-builder.js';

export type SyncStateRecord = Selectable<SyncStateTable>;
export type SyncHistoryRecord = Selectable<SyncHistoryTable>;

export interface StateChanges {
  upserts: SyncStateRecord[];
  history: SyncHistoryRecord[];
}

export interface StateChangeInput {
  /** Sources processed by this run. */
  outcomes: readonly SourceOutcome[];
  /** Sources whose state rows must be marked `removed` wholesale (directory gone). */
  removedSources: readonly string[];
  /** Current `sync_state` rows (at least those of the sources above and of every published table id). */
  previous: readonly SyncStateRecord[];
  generation: number;
  now: string;
  jobId: string | null;
}

const COMPARED: readonly (keyof SyncStateRecord)[] = [
  'source',
  'query_mode',
  'layout',
  'extracted_at',
  'rows',
  'file_size_bytes',
  'uncompressed_size_bytes',
  'columns',
  'hash',
  'status',
  'error',
  'description',
];

function differs(a: SyncStateRecord, b: SyncStateRecord): boolean {
  return COMPARED.some((key) => a[key] !== b[key]) || JSON.stringify(a.files) !== JSON.stringify(b.files);
}

function publishedState(table: PublishedTable, prev: SyncStateRecord | undefined, input: StateChangeInput) {
  const { row } = table;
  const contentChanged = !prev || prev.hash !== row.hash || prev.extracted_at !== row.extracted_at;
  const next: SyncStateRecord = {
    table_id: row.table_id,
    source: row.source,
    query_mode: row.query_mode,
    layout: row.layout,
    last_sync: contentChanged ? input.now : prev.last_sync,
    extracted_at: row.extracted_at,
    rows: row.rows,
    file_size_bytes: row.size_bytes,
    uncompressed_size_bytes: table.uncompressedBytes,
    columns: table.columns,
    hash: row.hash,
    files: row.files,
    status: 'ok',
    error: null,
    watermark: prev?.watermark ?? null,
    description: row.description,
    updated_generation: prev?.updated_generation ?? input.generation,
  };
  if (prev && !differs(prev, next)) return { state: null, contentChanged };
  return { state: { ...next, updated_generation: input.generation }, contentChanged };
}

/**
 * What a rebuild writes to the state store (02 §2.6), as a pure function of the run's outcomes and
 * the previous rows: changed rows only, `last_sync` moved only when content changed, history rows
 * only for sources, changed tables, failures and removals — so an unchanged rebuild adds no table rows.
 */
export function computeStateChanges(input: StateChangeInput): StateChanges {
  const previous = new Map(input.previous.map((r) => [r.table_id, r]));
  const publishedIds = new Set(input.outcomes.flatMap((o) => o.published.map((p) => p.row.table_id)));
  const upserts: SyncStateRecord[] = [];
  const history: SyncHistoryRecord[] = [];
  const historyRow = (
    source: string,
    tableId: string | null,
    status: SyncHistoryRecord['status'],
    fields: Partial<SyncHistoryRecord> = {},
  ) =>
    history.push({
      id: randomUUID(),
      table_id: tableId,
      source,
      job_id: input.jobId,
      synced_at: input.now,
      rows: null,
      duration_ms: null,
      status,
      error: null,
      generation: input.generation,
      ...fields,
    });
  const markAll = (source: string, status: string, error: string | null, keep: (id: string) => boolean) => {
    for (const prev of input.previous) {
      if (
        prev.source !== source ||
        prev.status === 'removed' ||
        keep(prev.table_id) ||
        publishedIds.has(prev.table_id)
      )
        continue;
      if (prev.status === status && prev.error === error) continue;
      upserts.push({ ...prev, status, error, updated_generation: input.generation });
      if (status === 'removed') historyRow(source, prev.table_id, 'removed');
    }
  };

  for (const outcome of input.outcomes) {
    const { report } = outcome;
    let total = 0;
    for (const table of outcome.published) {
      total += table.row.rows ?? 0;
      const { state, contentChanged } = publishedState(table, previous.get(table.row.table_id), input);
      if (state) upserts.push(state);
      if (contentChanged) historyRow(outcome.source, table.row.table_id, 'changed', { rows: table.row.rows });
    }
    if (report.reason) {
      // The whole source failed: its tables stop being published but are not gone.
      markAll(outcome.source, report.reason, report.reason, () => false);
    } else {
      for (const skipped of report.skipped_tables) {
        const id = skipped.table.toLowerCase();
        if (skipped.reason === 'name_collision' || !outcome.declared.has(id)) continue;
        const prev = previous.get(id);
        if (
          prev &&
          prev.source === outcome.source &&
          (prev.status !== skipped.reason || prev.error !== skipped.detail)
        ) {
          upserts.push({
            ...prev,
            status: skipped.reason,
            error: skipped.detail,
            updated_generation: input.generation,
          });
        }
        historyRow(outcome.source, id, 'failed', { error: `${skipped.reason}: ${skipped.detail}` });
      }
      markAll(outcome.source, 'removed', null, (id) => outcome.declared.has(id));
    }
    historyRow(outcome.source, null, report.status === 'removed' ? 'removed' : report.status, {
      rows: total,
      duration_ms: outcome.durationMs,
      error: report.reason ?? firstSkipReason(report.skipped_tables),
    });
  }
  for (const source of input.removedSources) {
    markAll(source, 'removed', null, () => false);
    historyRow(source, null, 'removed');
  }
  return { upserts, history };
}

function firstSkipReason(skipped: readonly { reason: SkipReason; table: string }[]): string | null {
  const first = skipped[0];
  return first ? `${first.reason}: ${first.table}` : null;
}

import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import { toJson } from '../column-values.js';
import type { Database, SyncHistoryTable, SyncStateTable, UserSyncSettingsTable } from '../schema.js';
import { isIn } from './in-list.js';
import { inTransaction } from './in-transaction.js';
import { type Page, type PageRequest, paginate } from './paginate.js';
import { retentionCutoff } from './retention.js';

export type SyncState = Selectable<SyncStateTable>;
/** A state row as a rebuild writes it: the watermark advances separately, after publication. */
export type SyncStateUpdate = Omit<SyncState, 'watermark'>;

export type SyncHistoryEntry = Selectable<SyncHistoryTable>;
export type NewSyncHistoryEntry = Pick<SyncHistoryEntry, 'source' | 'status'> &
  Partial<Omit<SyncHistoryEntry, 'id' | 'source' | 'status'>>;

export interface SyncHistoryFilter {
  table_id?: string;
  source?: string;
  /** Only table rows of these tables (no source-level rows): what a non-admin may see. */
  only_tables?: readonly string[];
}

export type UserSyncSetting = Selectable<UserSyncSettingsTable>;
/** Fields left out keep their stored value, or take the column default on first save. */
export type SyncSettingChange = Pick<UserSyncSetting, 'dataset'> &
  Partial<Pick<UserSyncSetting, 'enabled' | 'table_mode' | 'tables'>>;

// Keeps a multi-row statement well under SQLite's bound-parameter limit.
const ROWS_PER_STATEMENT = 100;

function chunked<T>(rows: readonly T[]): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    chunks.push(rows.slice(start, start + ROWS_PER_STATEMENT));
  }
  return chunks;
}

/**
 * `sync_state`, `sync_history` and `user_sync_settings`. To write state and history in one
 * transaction, bind a repository to it: `createSyncStateRepository(trx)`.
 */
export function createSyncStateRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    /** Inserts or replaces every column but the watermark, which a rebuild must not move. */
    upsertStates(rows: readonly SyncStateUpdate[]): Promise<void> {
      return inTransaction(db, async (trx) => {
        for (const chunk of chunked(rows)) {
          await trx
            .insertInto('sync_state')
            .values(chunk.map((row) => ({ ...row, files: toJson(row.files) })))
            .onConflict((oc) =>
              oc.column('table_id').doUpdateSet((eb) => ({
                source: eb.ref('excluded.source'),
                query_mode: eb.ref('excluded.query_mode'),
                layout: eb.ref('excluded.layout'),
                last_sync: eb.ref('excluded.last_sync'),
                extracted_at: eb.ref('excluded.extracted_at'),
                rows: eb.ref('excluded.rows'),
                file_size_bytes: eb.ref('excluded.file_size_bytes'),
                uncompressed_size_bytes: eb.ref('excluded.uncompressed_size_bytes'),
                columns: eb.ref('excluded.columns'),
                hash: eb.ref('excluded.hash'),
                files: eb.ref('excluded.files'),
                status: eb.ref('excluded.status'),
                error: eb.ref('excluded.error'),
                description: eb.ref('excluded.description'),
                updated_generation: eb.ref('excluded.updated_generation'),
              })),
            )
            .execute();
        }
      });
    },

    getState(tableId: string): Promise<SyncState | undefined> {
      return db.selectFrom('sync_state').selectAll().where('table_id', '=', tableId).executeTakeFirst();
    },

    listStates(filter: { source?: string } = {}): Promise<SyncState[]> {
      let query = db.selectFrom('sync_state').selectAll().orderBy('table_id');
      if (filter.source !== undefined) query = query.where('source', '=', filter.source);
      return query.execute();
    },

    /** Tables gone from their source keep their row, for history (02-data-contracts.md §2.6). */
    async markRemoved(tableIds: readonly string[]): Promise<number> {
      if (tableIds.length === 0) return 0;
      const result = await db
        .updateTable('sync_state')
        .set({ status: 'removed' })
        .where('table_id', 'in', tableIds)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /** Called only once new data is published, so a failed run never skips rows. */
    async setWatermark(tableId: string, watermark: string | null): Promise<boolean> {
      const result = await db
        .updateTable('sync_state')
        .set({ watermark })
        .where('table_id', '=', tableId)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    appendHistory(entries: readonly NewSyncHistoryEntry[]): Promise<SyncHistoryEntry[]> {
      const now = nowIso(clock);
      // Every row names every column: a multi-row VALUES cannot mix in DEFAULT on SQLite.
      const rows = entries.map((entry) => ({
        id: randomUUID(),
        table_id: entry.table_id ?? null,
        source: entry.source,
        job_id: entry.job_id ?? null,
        synced_at: entry.synced_at ?? now,
        rows: entry.rows ?? null,
        duration_ms: entry.duration_ms ?? null,
        status: entry.status,
        error: entry.error ?? null,
        generation: entry.generation ?? null,
      }));
      return inTransaction(db, async (trx) => {
        for (const chunk of chunked(rows)) await trx.insertInto('sync_history').values(chunk).execute();
        return rows;
      });
    },

    /** Newest first. */
    async listHistory(filter: SyncHistoryFilter = {}, page?: PageRequest): Promise<Page<SyncHistoryEntry>> {
      let query = db
        .selectFrom('sync_history')
        .selectAll()
        .orderBy('synced_at', 'desc')
        .orderBy('id', 'desc');
      if (filter.table_id !== undefined) query = query.where('table_id', '=', filter.table_id);
      if (filter.source !== undefined) query = query.where('source', '=', filter.source);
      const visible = filter.only_tables;
      if (visible !== undefined) query = query.where((eb) => isIn(eb, 'table_id', visible));
      return paginate(query, page);
    },

    async pruneHistory(retentionDays: number): Promise<number> {
      const result = await db
        .deleteFrom('sync_history')
        .where('synced_at', '<', retentionCutoff(clock, retentionDays))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    getSetting(userId: string, dataset: string): Promise<UserSyncSetting | undefined> {
      return db
        .selectFrom('user_sync_settings')
        .selectAll()
        .where('user_id', '=', userId)
        .where('dataset', '=', dataset)
        .executeTakeFirst();
    },

    listSettings(userId: string): Promise<UserSyncSetting[]> {
      return db
        .selectFrom('user_sync_settings')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('dataset')
        .execute();
    },

    /** All-or-nothing: either every change is saved or none (03-http-api.md, POST /api/sync/settings). */
    saveSettings(userId: string, changes: readonly SyncSettingChange[]): Promise<UserSyncSetting[]> {
      const now = nowIso(clock);
      return inTransaction(db, async (trx) => {
        const saved: UserSyncSetting[] = [];
        for (const change of changes) {
          const given = {
            enabled: change.enabled,
            table_mode: change.table_mode,
            tables: change.tables === undefined ? undefined : toJson(change.tables),
          };
          const row = await trx
            .insertInto('user_sync_settings')
            .values({
              user_id: userId,
              dataset: change.dataset,
              enabled: given.enabled ?? true,
              table_mode: given.table_mode ?? 'all',
              tables: given.tables ?? toJson([]),
              updated_at: now,
            })
            .onConflict((oc) => oc.columns(['user_id', 'dataset']).doUpdateSet({ ...given, updated_at: now }))
            .returningAll()
            .executeTakeFirstOrThrow();
          saved.push(row);
        }
        return saved;
      });
    },
  };
}

export type SyncStateRepository = ReturnType<typeof createSyncStateRepository>;

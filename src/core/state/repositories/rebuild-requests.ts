import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import { toJson } from '../column-values.js';
import type { Database, RebuildOutcome } from '../schema.js';

export interface QueuedRebuild {
  kind: 'full' | 'source';
  source: string | null;
}

/** Answered requests are kept this long for callers still polling, then dropped at the next claim. */
const KEEP_FINISHED_MS = 3_600_000;

/**
 * Rebuild requests across replicas (02 §2.5, 13 §3). A run claims every request not yet answered,
 * so requests made while it runs wait for the next; the caller of a claim must hold the cluster's
 * rebuild lock, which is what makes a request claimed by an unfinished run one whose run died.
 */
export function createRebuildRequestsRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    async add(request: QueuedRebuild, requestedBy: string): Promise<string> {
      const id = randomUUID();
      await db
        .insertInto('rebuild_requests')
        .values({ id, ...request, requested_by: requestedBy, requested_at: nowIso(clock) })
        .execute();
      return id;
    },

    /** Every unanswered request, now covered by `runId`. */
    claim(runId: string): Promise<QueuedRebuild[]> {
      return db.transaction().execute(async (trx) => {
        const cutoff = new Date(clock.now().getTime() - KEEP_FINISHED_MS).toISOString();
        await trx.deleteFrom('rebuild_requests').where('finished_at', '<', cutoff).execute();
        return trx
          .updateTable('rebuild_requests')
          .set({ run_id: runId })
          .where('finished_at', 'is', null)
          .returning(['kind', 'source'])
          .execute();
      });
    },

    async finish(runId: string, outcome: RebuildOutcome): Promise<void> {
      await db
        .updateTable('rebuild_requests')
        .set({ finished_at: nowIso(clock), outcome: toJson(outcome) })
        .where('run_id', '=', runId)
        .where('finished_at', 'is', null)
        .execute();
    },

    /** The outcomes of those of `ids` that are answered. */
    async outcomes(ids: readonly string[]): Promise<Map<string, RebuildOutcome>> {
      if (ids.length === 0) return new Map();
      const rows = await db
        .selectFrom('rebuild_requests')
        .select(['id', 'outcome'])
        .where('id', 'in', ids)
        .where('finished_at', 'is not', null)
        .execute();
      return new Map(rows.flatMap((row) => (row.outcome ? [[row.id, row.outcome] as const] : [])));
    },
  };
}

export type RebuildRequestsRepository = ReturnType<typeof createRebuildRequestsRepository>;

import { randomUUID } from 'node:crypto';
import { type Kysely, type Selectable, sql } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import { toJson, toNullableJson } from '../column-values.js';
import { stateDialect } from '../db.js';
import type { Database, JobKind, JobStatus, SyncJobsTable } from '../schema.js';
import { inTransaction } from './in-transaction.js';
import { type Page, type PageRequest, paginate } from './paginate.js';

export type Job = Selectable<SyncJobsTable>;

export interface NewJob {
  kind: JobKind;
  requested_by: string | null;
  source: string | null;
  tables: string[];
}

export interface JobFilter {
  status?: JobStatus;
  source?: string;
  kind?: JobKind;
}

export interface JobOutcome {
  status: Extract<JobStatus, 'succeeded' | 'partial' | 'failed' | 'interrupted'>;
  report: Record<string, unknown> | null;
  error: string | null;
}

const ACTIVE: readonly JobStatus[] = ['queued', 'running'];
/** The transaction-scoped advisory lock that serialises job claims across replicas (13 §3). */
const CLAIM_LOCK = 0x61676e01;
const LAST_START_PAGE = 500;

/** The persisted queue of the in-app job runner (`sync_jobs`). */
export function createJobsRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  const get = (id: string): Promise<Job | undefined> =>
    db.selectFrom('sync_jobs').selectAll().where('id', '=', id).executeTakeFirst();

  return {
    create(input: NewJob): Promise<Job> {
      return db
        .insertInto('sync_jobs')
        .values({
          ...input,
          id: randomUUID(),
          tables: toJson(input.tables),
          status: 'queued',
          created_at: nowIso(clock),
          report: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    get,

    /** Newest first. */
    list(filter: JobFilter = {}, page?: PageRequest): Promise<Page<Job>> {
      let query = db.selectFrom('sync_jobs').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc');
      if (filter.status !== undefined) query = query.where('status', '=', filter.status);
      if (filter.source !== undefined) query = query.where('source', '=', filter.source);
      if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
      return paginate(query, page);
    },

    /** Queued and running jobs of a source, oldest first: at most one of each (03-http-api.md §4). */
    findActive(source: string): Promise<Job[]> {
      return db
        .selectFrom('sync_jobs')
        .selectAll()
        .where('source', '=', source)
        .where('status', 'in', ACTIVE)
        .orderBy('created_at')
        .orderBy('id')
        .execute();
    },

    /**
     * Adds tables to a job that is still queued (a trigger merging into it); an empty list means
     * every table, on either side. Undefined when the job has started meanwhile; the caller then
     * queues a follow-up instead.
     */
    mergeTables(id: string, tables: readonly string[]): Promise<Job | undefined> {
      return inTransaction(db, async (trx) => {
        const job = await trx
          .selectFrom('sync_jobs')
          .select('tables')
          .where('id', '=', id)
          .where('status', '=', 'queued')
          .executeTakeFirst();
        if (!job) return undefined;
        const merged =
          job.tables.length === 0 || tables.length === 0 ? [] : [...new Set([...job.tables, ...tables])];
        return trx
          .updateTable('sync_jobs')
          .set({ tables: toJson(merged) })
          .where('id', '=', id)
          .where('status', '=', 'queued')
          .returningAll()
          .executeTakeFirst();
      });
    },

    /**
     * When each table's sync last started (`last_run_at` of 08 §1.2, the last attempt): the newest
     * started sync job of the table's source that names it or names no table (every table). Walks
     * the started jobs newest first, a page at a time, only until every table is found.
     */
    async lastSyncStarts(tables: readonly { id: string; source: string }[]): Promise<Map<string, string>> {
      const found = new Map<string, string>();
      const missing = new Map<string, Set<string>>();
      for (const { id, source } of tables) missing.set(source, (missing.get(source) ?? new Set()).add(id));
      let after: { started_at: string; id: string } | null = null;
      while (missing.size > 0) {
        let query = db
          .selectFrom('sync_jobs')
          .select(['id', 'source', 'tables', 'started_at'])
          .where('kind', '=', 'sync')
          .where('started_at', 'is not', null)
          .orderBy('started_at', 'desc')
          .orderBy('id', 'desc')
          .limit(LAST_START_PAGE);
        if (after) {
          const { started_at, id } = after;
          query = query.where((eb) =>
            eb.or([
              eb('started_at', '<', started_at),
              eb.and([eb('started_at', '=', started_at), eb('id', '<', id)]),
            ]),
          );
        }
        const page = await query.execute();
        for (const job of page) {
          const wanted = job.source === null ? undefined : missing.get(job.source);
          if (!wanted) continue;
          for (const id of job.tables.length === 0 ? [...wanted] : job.tables.filter((t) => wanted.has(t))) {
            found.set(id, job.started_at!);
            wanted.delete(id);
          }
          if (wanted.size === 0) missing.delete(job.source!);
        }
        const last = page.at(-1);
        if (page.length < LAST_START_PAGE || !last) break;
        after = { started_at: last.started_at!, id: last.id };
      }
      return found;
    },

    /** Claims a queued job; false when another runner claimed it first. */
    async markRunning(id: string, claimedBy: string | null = null): Promise<boolean> {
      const now = nowIso(clock);
      const result = await db
        .updateTable('sync_jobs')
        .set({ status: 'running', started_at: now, claimed_by: claimedBy, heartbeat_at: now })
        .where('id', '=', id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /**
     * Claims the oldest queued job of `kind` for the replica `claimedBy`, unless a job of that kind
     * and source already runs anywhere (one sync per source, one job per other kind, across every
     * replica). On PostgreSQL claims are serialised by an advisory lock, so two replicas cannot both
     * see a source idle, and the row is taken with `FOR UPDATE SKIP LOCKED`, so a row another
     * transaction holds (a merge into it) is passed over rather than waited for.
     */
    claimNext(kind: JobKind, claimedBy: string): Promise<Job | undefined> {
      return inTransaction(db, async (trx) => {
        const postgres = stateDialect(trx) === 'postgres';
        if (postgres) await sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`.execute(trx);
        let next = trx
          .selectFrom('sync_jobs as j')
          .select('j.id')
          .where('j.status', '=', 'queued')
          .where('j.kind', '=', kind)
          .where(({ exists, not, selectFrom }) =>
            not(
              exists(
                selectFrom('sync_jobs as r')
                  .select('r.id')
                  .where('r.status', '=', 'running')
                  .whereRef('r.kind', '=', 'j.kind')
                  .where((eb) =>
                    eb.or([
                      eb('r.source', '=', eb.ref('j.source')),
                      eb.and([eb('r.source', 'is', null), eb('j.source', 'is', null)]),
                    ]),
                  ),
              ),
            ),
          )
          .orderBy('j.created_at')
          .orderBy('j.id')
          .limit(1);
        if (postgres) next = next.forUpdate().skipLocked();
        const found = await next.executeTakeFirst();
        if (!found) return undefined;
        const now = nowIso(clock);
        return trx
          .updateTable('sync_jobs')
          .set({ status: 'running', started_at: now, claimed_by: claimedBy, heartbeat_at: now })
          .where('id', '=', found.id)
          .returningAll()
          .executeTakeFirst();
      });
    },

    /** Renews the claim of every job `claimedBy` runs. */
    async heartbeat(claimedBy: string): Promise<void> {
      await db
        .updateTable('sync_jobs')
        .set({ heartbeat_at: nowIso(clock) })
        .where('status', '=', 'running')
        .where('claimed_by', '=', claimedBy)
        .execute();
    },

    /**
     * Marks `interrupted` the running jobs whose claim was last renewed more than `maxAgeMs` ago
     * (their replica died) or never (left by a version without claims).
     */
    async interruptStale(maxAgeMs: number): Promise<number> {
      const now = clock.now();
      const cutoff = new Date(now.getTime() - maxAgeMs).toISOString();
      const result = await db
        .updateTable('sync_jobs')
        .set({
          status: 'interrupted',
          finished_at: now.toISOString(),
          error: 'the replica running it stopped',
        })
        .where('status', '=', 'running')
        .where((eb) => eb.or([eb('heartbeat_at', 'is', null), eb('heartbeat_at', '<', cutoff)]))
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /** At shutdown: the jobs this replica still runs will not finish. */
    async interruptClaimedBy(claimedBy: string): Promise<number> {
      const result = await db
        .updateTable('sync_jobs')
        .set({ status: 'interrupted', finished_at: nowIso(clock) })
        .where('status', '=', 'running')
        .where('claimed_by', '=', claimedBy)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    finish(id: string, outcome: JobOutcome): Promise<Job | undefined> {
      return db
        .updateTable('sync_jobs')
        .set({
          status: outcome.status,
          report: toNullableJson(outcome.report),
          error: outcome.error,
          finished_at: nowIso(clock),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    /** At startup: a job left running by a previous process did not finish. */
    async markAllRunningInterrupted(): Promise<number> {
      const result = await db
        .updateTable('sync_jobs')
        .set({ status: 'interrupted', finished_at: nowIso(clock) })
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}

export type JobsRepository = ReturnType<typeof createJobsRepository>;

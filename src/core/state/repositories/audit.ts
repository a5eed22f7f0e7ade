import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import { toNullableJson } from '../column-values.js';
import type { AuditLogTable, Database } from '../schema.js';
import { type Page, type PageRequest, paginate } from './paginate.js';
import { retentionCutoff } from './retention.js';

export type AuditEntry = Selectable<AuditLogTable>;

/** An entry as the audit hook records it; `params` must already be redacted (04-auth-and-access.md §8). */
export type NewAuditEntry = Pick<AuditEntry, 'action' | 'result'> &
  Partial<Omit<AuditEntry, 'id' | 'action' | 'result'>>;

export interface AuditFilter {
  user_id?: string;
  /** Exact action name. */
  action?: string;
  /** Actions starting with this text, e.g. `group.` for `group.*`. */
  action_prefix?: string;
  resource?: string;
  /** Inclusive lower bound on `timestamp`. */
  from?: string;
  /** Exclusive upper bound on `timestamp`. */
  to?: string;
}

export function createAuditRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    async append(entry: NewAuditEntry): Promise<AuditEntry> {
      const row = {
        ...entry,
        id: randomUUID(),
        timestamp: entry.timestamp ?? nowIso(clock),
        params: toNullableJson(entry.params),
      };
      return db.insertInto('audit_log').values(row).returningAll().executeTakeFirstOrThrow();
    },

    /** Newest first. */
    list(filter: AuditFilter = {}, page?: PageRequest): Promise<Page<AuditEntry>> {
      let query = db.selectFrom('audit_log').selectAll().orderBy('timestamp', 'desc').orderBy('id', 'desc');
      const { user_id, action, action_prefix, resource, from, to } = filter;
      if (user_id !== undefined) query = query.where('user_id', '=', user_id);
      if (action !== undefined) query = query.where('action', '=', action);
      if (action_prefix !== undefined) {
        // substr instead of LIKE: `_` in action names would otherwise match any character.
        query = query.where(
          (eb) => eb.fn<string>('substr', ['action', eb.val(1), eb.val(action_prefix.length)]),
          '=',
          action_prefix,
        );
      }
      if (resource !== undefined) query = query.where('resource', '=', resource);
      if (from !== undefined) query = query.where('timestamp', '>=', from);
      if (to !== undefined) query = query.where('timestamp', '<', to);
      return paginate(query, page);
    },

    async pruneOlderThan(retentionDays: number): Promise<number> {
      const result = await db
        .deleteFrom('audit_log')
        .where('timestamp', '<', retentionCutoff(clock, retentionDays))
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;

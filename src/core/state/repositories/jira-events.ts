import type { Kysely, Selectable } from 'kysely';
import type { Database, JiraEventAttemptsTable } from '../schema.js';

export type JiraEventAttempt = Selectable<JiraEventAttemptsTable>;

/**
 * Attempt counts of Jira webhook events that failed (07 §5.7): a row exists from an event's first
 * failure until it succeeds or is moved to `jira/failed/`, so the table holds only events waiting
 * for a retry. Lookups by id take one batch (at most 100 events), far below SQLite's bound on
 * parameters.
 */
export function createJiraEventsRepository(db: Kysely<Database>) {
  return {
    async get(eventIds: readonly string[]): Promise<Map<string, JiraEventAttempt>> {
      if (eventIds.length === 0) return new Map();
      const rows = await db
        .selectFrom('jira_event_attempts')
        .selectAll()
        .where('event_id', 'in', [...eventIds])
        .execute();
      return new Map(rows.map((row) => [row.event_id, row]));
    },

    /** Every event waiting for a retry: what the worker checks its inbox listing against. */
    async pending(): Promise<Map<string, JiraEventAttempt>> {
      const rows = await db.selectFrom('jira_event_attempts').selectAll().execute();
      return new Map(rows.map((row) => [row.event_id, row]));
    },

    async record(attempt: JiraEventAttempt): Promise<void> {
      await db
        .insertInto('jira_event_attempts')
        .values(attempt)
        .onConflict((oc) =>
          oc.column('event_id').doUpdateSet({
            attempts: attempt.attempts,
            next_attempt_at: attempt.next_attempt_at,
            last_error_code: attempt.last_error_code,
            last_attempt_at: attempt.last_attempt_at,
          }),
        )
        .execute();
    },

    async forget(eventIds: readonly string[]): Promise<void> {
      if (eventIds.length === 0) return;
      await db
        .deleteFrom('jira_event_attempts')
        .where('event_id', 'in', [...eventIds])
        .execute();
    },
  };
}

export type JiraEventsRepository = ReturnType<typeof createJiraEventsRepository>;

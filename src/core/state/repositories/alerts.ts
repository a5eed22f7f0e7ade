import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import { toJson } from '../column-values.js';
import type { AlertsTable, Database } from '../schema.js';
import { translateViolations } from './constraint-errors.js';

export type Alert = Selectable<AlertsTable>;

export interface NewAlert {
  owner_id: string;
  name: string;
  sql: string;
  condition: Record<string, unknown>;
  message_template: string;
  schedule: string;
  channels: string[];
  cooldown_minutes?: number;
  enabled?: boolean;
}

export type AlertPatch = Partial<Omit<NewAlert, 'owner_id'>>;

export interface AlertRun {
  status: string;
  error: string | null;
  fired: boolean;
  /** Access errors count towards disabling the alert (08 §7); any other outcome resets the count. */
  accessError?: boolean;
}

/**
 * SQL alerts. Reads and writes on behalf of a user take the owner's id, so another user's alert
 * behaves as missing; `get` and `recordRun` serve the scheduler, which acts for every owner.
 */
export function createAlertsRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    create(input: NewAlert): Promise<Alert> {
      const now = nowIso(clock);
      const insert = db
        .insertInto('alerts')
        .values({
          cooldown_minutes: 60,
          enabled: true,
          consecutive_errors: 0,
          ...input,
          id: randomUUID(),
          condition: toJson(input.condition),
          channels: toJson(input.channels),
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return translateViolations(insert, { foreignKey: 'owner not found' });
    },

    get(id: string): Promise<Alert | undefined> {
      return db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    },

    getOwned(id: string, ownerId: string): Promise<Alert | undefined> {
      return db
        .selectFrom('alerts')
        .selectAll()
        .where('id', '=', id)
        .where('owner_id', '=', ownerId)
        .executeTakeFirst();
    },

    /** One owner's alerts, or every alert when `ownerId` is omitted (admin `all=true`). */
    list(ownerId?: string): Promise<Alert[]> {
      let query = db.selectFrom('alerts').selectAll().orderBy('created_at').orderBy('id');
      if (ownerId !== undefined) query = query.where('owner_id', '=', ownerId);
      return query.execute();
    },

    listEnabled(): Promise<Alert[]> {
      return db.selectFrom('alerts').selectAll().where('enabled', '=', true).orderBy('id').execute();
    },

    async countByOwner(ownerId: string): Promise<number> {
      const row = await db
        .selectFrom('alerts')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('owner_id', '=', ownerId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    /** Enabling an alert again starts its count of access errors afresh. */
    update(id: string, ownerId: string, patch: AlertPatch): Promise<Alert | undefined> {
      const { condition, channels, ...plain } = patch;
      return db
        .updateTable('alerts')
        .set({
          ...plain,
          ...(patch.enabled === true ? { consecutive_errors: 0 } : {}),
          condition: condition === undefined ? undefined : toJson(condition),
          channels: channels === undefined ? undefined : toJson(channels),
          updated_at: nowIso(clock),
        })
        .where('id', '=', id)
        .where('owner_id', '=', ownerId)
        .returningAll()
        .executeTakeFirst();
    },

    async delete(id: string, ownerId: string): Promise<boolean> {
      const result = await db
        .deleteFrom('alerts')
        .where('id', '=', id)
        .where('owner_id', '=', ownerId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /**
     * Every evaluation is recorded; `last_fired_at` moves only when it fired (cooldown). Returns
     * the alert as recorded, with its count of consecutive access errors.
     */
    recordRun(id: string, run: AlertRun): Promise<Alert | undefined> {
      const now = nowIso(clock);
      return db
        .updateTable('alerts')
        .set((eb) => ({
          last_run_at: now,
          last_status: run.status,
          last_error: run.error,
          last_fired_at: run.fired ? now : undefined,
          consecutive_errors: run.accessError ? eb('consecutive_errors', '+', 1) : 0,
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    /** Turns an alert off on the evaluator's behalf (after repeated access errors). */
    async disable(id: string): Promise<void> {
      await db
        .updateTable('alerts')
        .set({ enabled: false, updated_at: nowIso(clock) })
        .where('id', '=', id)
        .execute();
    },
  };
}

export type AlertsRepository = ReturnType<typeof createAlertsRepository>;

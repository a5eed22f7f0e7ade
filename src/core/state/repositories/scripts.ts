import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type Clock, nowIso, systemClock } from '../../time.js';
import { toJson, toNullableJson } from '../column-values.js';
import type { Database, ScriptRegistryTable } from '../schema.js';

export type Script = Selectable<ScriptRegistryTable>;

export interface ScriptDeployment {
  name: string;
  source: string;
  owner: string | null;
  runtime?: Script['runtime'];
  schedule?: string | null;
  /** User ids and `group:<id>`; defaults to the owner. */
  recipients?: string[];
  timeout_seconds?: number;
  enabled?: boolean;
}

export interface DeployResult {
  script: Script;
  /** False when a script of that name was replaced (keeping its id and run history). */
  created: boolean;
}

export type ScriptPatch = Partial<
  Pick<ScriptDeployment, 'schedule' | 'recipients' | 'timeout_seconds' | 'enabled'>
>;

export interface ScriptRun {
  status: NonNullable<Script['last_status']>;
  output: Script['last_output'];
  duration_ms: number;
  /** When the run started (`last_run` is the last attempt, 03 §21); now when left out. */
  started_at?: string;
}

export function createScriptsRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  return {
    /** Deploying under an existing name replaces that script in one atomic upsert. */
    async deploy(input: ScriptDeployment): Promise<DeployResult> {
      const now = nowIso(clock);
      const id = randomUUID();
      const deployed = {
        source: input.source,
        owner: input.owner,
        runtime: input.runtime ?? 'node',
        schedule: input.schedule ?? null,
        recipients: toJson(input.recipients ?? (input.owner === null ? [] : [input.owner])),
        timeout_seconds: input.timeout_seconds ?? 60,
        enabled: input.enabled ?? true,
        deployed_at: now,
        updated_at: now,
      };
      const script = await db
        .insertInto('script_registry')
        .values({ ...deployed, id, name: input.name, last_output: null })
        .onConflict((oc) => oc.column('name').doUpdateSet(deployed))
        .returningAll()
        .executeTakeFirstOrThrow();
      return { script, created: script.id === id };
    },

    get(id: string): Promise<Script | undefined> {
      return db.selectFrom('script_registry').selectAll().where('id', '=', id).executeTakeFirst();
    },

    getByName(name: string): Promise<Script | undefined> {
      return db.selectFrom('script_registry').selectAll().where('name', '=', name).executeTakeFirst();
    },

    list(): Promise<Script[]> {
      return db.selectFrom('script_registry').selectAll().orderBy('name').execute();
    },

    update(id: string, patch: ScriptPatch): Promise<Script | undefined> {
      const { recipients, ...plain } = patch;
      return db
        .updateTable('script_registry')
        .set({
          ...plain,
          recipients: recipients === undefined ? undefined : toJson(recipients),
          updated_at: nowIso(clock),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },

    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('script_registry').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** Stamps the start of a run at once, so the scheduler sees the attempt while it runs. */
    async recordStart(id: string): Promise<string> {
      const now = nowIso(clock);
      await db.updateTable('script_registry').set({ last_run: now }).where('id', '=', id).execute();
      return now;
    },

    async recordRun(id: string, run: ScriptRun): Promise<void> {
      await db
        .updateTable('script_registry')
        .set({
          last_run: run.started_at ?? nowIso(clock),
          last_status: run.status,
          last_output: toNullableJson(run.output),
          last_duration_ms: run.duration_ms,
        })
        .where('id', '=', id)
        .execute();
    },

    /** Which of `userIds` got a notification from this script at or after `since` (the cooldown, 08 §6). */
    async notifiedSince(scriptId: string, userIds: readonly string[], since: string): Promise<Set<string>> {
      if (userIds.length === 0) return new Set();
      const rows = await db
        .selectFrom('notifications')
        .select('user_id')
        .distinct()
        .where('user_id', 'in', [...userIds])
        .where('created_at', '>=', since)
        .where('source_kind', '=', 'script')
        .where('source_id', '=', scriptId)
        .execute();
      return new Set(rows.map((row) => row.user_id));
    },
  };
}

export type ScriptsRepository = ReturnType<typeof createScriptsRepository>;

import { randomUUID } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { AppliesTo, MaskedColumn, RowPolicy } from '../../policies/types.js';
import { type Clock, nowIso, systemClock } from '../../time.js';
import { toJson } from '../column-values.js';
import type { Database, RowPoliciesTable } from '../schema.js';
import { translateViolations } from './constraint-errors.js';
import { isIn } from './in-list.js';

export interface NewRowPolicy {
  table_id: string;
  name: string;
  description: string;
  applies_to: AppliesTo;
  row_filter: string | null;
  masked_columns: MaskedColumn[];
  enabled: boolean;
  created_by: string | null;
}

/** A given field replaces the stored value whole (12 §4 PUT); `error` is reset by a new check. */
export type RowPolicyPatch = Partial<Omit<NewRowPolicy, 'table_id' | 'created_by'>> & {
  error?: string | null;
  updated_by: string | null;
};

const NAME_TAKEN = 'a policy of this name already binds the table';

/** The unique key of a policy name within its table: names differing only in case clash. */
export function policyNameKey(name: string): string {
  return name.toLowerCase();
}

function toPolicy(row: Selectable<RowPoliciesTable>): RowPolicy {
  const { name_key: _key, ...policy } = row;
  return policy;
}

/** Row and column policies (12 §1), ordered by name within a table. */
export function createPoliciesRepository(db: Kysely<Database>, clock: Clock = systemClock) {
  /** Every policy, enabled or not, of the given tables in one query: a table listed here is bound. */
  const listForTables = async (tableIds: readonly string[]): Promise<RowPolicy[]> => {
    const rows = await db
      .selectFrom('row_policies')
      .selectAll()
      .where((eb) => isIn(eb, 'table_id', [...new Set(tableIds)]))
      .orderBy('table_id')
      .orderBy('name_key')
      .execute();
    return rows.map(toPolicy);
  };

  return {
    async create(input: NewRowPolicy): Promise<RowPolicy> {
      const now = nowIso(clock);
      const insert = db
        .insertInto('row_policies')
        .values({
          ...input,
          id: randomUUID(),
          name_key: policyNameKey(input.name),
          applies_to: toJson(input.applies_to),
          masked_columns: toJson(input.masked_columns),
          error: null,
          updated_by: input.created_by,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toPolicy(
        await translateViolations(insert, {
          unique: NAME_TAKEN,
          uniqueCode: 'policy_exists',
          foreignKey: 'table not found',
        }),
      );
    },

    async get(id: string): Promise<RowPolicy | undefined> {
      const row = await db.selectFrom('row_policies').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toPolicy(row);
    },

    listForTable: (tableId: string): Promise<RowPolicy[]> => listForTables([tableId]),

    listForTables,

    /**
     * The policy-bound tables (12 §1) among `tableIds` (every one when omitted): those with at
     * least one policy, enabled or not, since a table whose every policy is disabled stays bound
     * and shows no rows.
     */
    async boundTables(tableIds?: readonly string[]): Promise<Set<string>> {
      if (tableIds?.length === 0) return new Set();
      let query = db.selectFrom('row_policies').select('table_id').distinct();
      if (tableIds) query = query.where((eb) => isIn(eb, 'table_id', tableIds));
      const rows = await query.execute();
      return new Set(rows.map((row) => row.table_id));
    },

    async update(id: string, patch: RowPolicyPatch): Promise<RowPolicy | undefined> {
      const { applies_to, masked_columns, ...plain } = patch;
      const update = db
        .updateTable('row_policies')
        .set({
          ...plain,
          ...(patch.name === undefined ? {} : { name_key: policyNameKey(patch.name) }),
          applies_to: applies_to === undefined ? undefined : toJson(applies_to),
          masked_columns: masked_columns === undefined ? undefined : toJson(masked_columns),
          updated_at: nowIso(clock),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      const row = await translateViolations(update, { unique: NAME_TAKEN, uniqueCode: 'policy_exists' });
      return row && toPolicy(row);
    },

    async delete(id: string): Promise<boolean> {
      const result = await db.deleteFrom('row_policies').where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /**
     * Records whether the policy binds (`null`) or why it does not (12 §2). True only when it
     * moved between the two, which happens once per failure however many requests see it at
     * once: a new reason for a policy already failing is stored and answers false.
     */
    async setError(id: string, error: string | null): Promise<boolean> {
      if (error === null) {
        const cleared = await db
          .updateTable('row_policies')
          .set({ error: null })
          .where('id', '=', id)
          .where('error', 'is not', null)
          .executeTakeFirst();
        return Number(cleared.numUpdatedRows) > 0;
      }
      const failed = await db
        .updateTable('row_policies')
        .set({ error })
        .where('id', '=', id)
        .where('error', 'is', null)
        .executeTakeFirst();
      if (Number(failed.numUpdatedRows) > 0) return true;
      await db
        .updateTable('row_policies')
        .set({ error })
        .where('id', '=', id)
        .where('error', '!=', error)
        .execute();
      return false;
    },
  };
}

export type PoliciesRepository = ReturnType<typeof createPoliciesRepository>;

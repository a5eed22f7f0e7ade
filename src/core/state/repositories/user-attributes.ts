import type { Kysely } from 'kysely';
import { toJson } from '../column-values.js';
import { preparedQuery } from '../prepared.js';
import type { Database } from '../schema.js';
import { translateViolations } from './constraint-errors.js';
import { inTransaction } from './in-transaction.js';

/** Stored attributes by key (12 §1); the derived `email`, `user_id` and `groups` are not here. */
export type UserAttributes = Record<string, string[]>;

/** A user's stored attributes, the values of policy placeholders `{{user.attr.<key>}}` (12 §2). */
export function createUserAttributesRepository(db: Kysely<Database>) {
  // Read on every `GET /auth/me`: compiled once.
  const byUser = preparedQuery<[string], { key: string; values: string[] }>(
    db,
    (userId) =>
      db
        .selectFrom('user_attributes')
        .select(['key', 'values'])
        .where('user_id', '=', userId!)
        .orderBy('key'),
    1,
  );
  return {
    /** Keys in order; values exactly as stored. */
    async get(userId: string): Promise<UserAttributes> {
      const rows = await byUser(userId);
      return Object.fromEntries(rows.map((row) => [row.key, row.values]));
    },

    /** Replaces every stored key of the user at once; an unknown user → not_found. */
    replace(userId: string, attributes: UserAttributes): Promise<void> {
      return inTransaction(db, async (trx) => {
        // Attributes are part of what authenticates a request (the principal's cached record), so
        // they move the principals revision in the same transaction. This method is the only
        // writer of the table besides a user's deletion, which moves the revision by trigger.
        await trx
          .updateTable('state_revisions')
          .set((eb) => ({ n: eb('n', '+', 1) }))
          .where('name', '=', 'principals')
          .execute();
        await trx.deleteFrom('user_attributes').where('user_id', '=', userId).execute();
        const rows = Object.entries(attributes).map(([key, values]) => ({
          user_id: userId,
          key,
          values: toJson(values),
        }));
        if (rows.length === 0) return;
        await translateViolations(trx.insertInto('user_attributes').values(rows).execute(), {
          foreignKey: 'user not found',
        });
      });
    },
  };
}

export type UserAttributesRepository = ReturnType<typeof createUserAttributesRepository>;

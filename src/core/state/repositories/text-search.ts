import type { Expression, ExpressionBuilder, ReferenceExpression, SqlBool } from 'kysely';

/**
 * Case-insensitive substring match of `text` in any of `columns`. `lower()` on both sides because
 * LIKE is case-insensitive on SQLite but not on Postgres. `%` and `_` typed by a user stay
 * wildcards (an ESCAPE clause is not expressible portably in Kysely); that only widens a search.
 */
export function containsText<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  columns: ReferenceExpression<DB, TB>[],
  text: string,
): Expression<SqlBool> {
  const pattern = `%${text.toLowerCase()}%`;
  return eb.or(columns.map((column) => eb(eb.fn<string>('lower', [column]), 'like', pattern)));
}

import type { Expression, ExpressionBuilder, ReferenceExpression, SqlBool } from 'kysely';

/** `column in (values)`, false for no values: an empty `in ()` is a syntax error in SQL. */
export function isIn<DB, TB extends keyof DB>(
  eb: ExpressionBuilder<DB, TB>,
  column: ReferenceExpression<DB, TB>,
  values: readonly string[],
): Expression<SqlBool> {
  return values.length > 0 ? eb(column, 'in', values) : eb.lit(false);
}

import { checkFunctionCall } from '../query/tree-walk.js';
import { isNonScalarFunction, isUnstableFunction } from './non-scalar-functions.js';
import { invalidPolicy } from './placeholders.js';

/**
 * The walk of a policy filter's tree (12 §2): the `where_clause` of `json_serialize_sql` for
 * `SELECT 1 FROM "t" WHERE (<filter>\n)`. Unlike the query walk (05 §3), which refuses what it
 * knows to be dangerous, this walk allows only what it knows: each expression class below with
 * exactly the fields DuckDB 1.5 gives it, and nothing else, so an unknown node or field (a DuckDB
 * upgrade) is refused rather than skipped. Details name the rule, or a column, never the filter's
 * literals or text.
 */

type Node = Record<string, unknown>;

export interface FilterScope {
  /** The table's columns, by lower-case name (identifiers are case-insensitive in DuckDB). */
  columns: ReadonlySet<string>;
  /** The parameters standing for the template's placeholders (`p0`, `p1`, …); none when bound. */
  parameters: ReadonlySet<string>;
}

const COMMON_FIELDS = ['class', 'type', 'alias', 'query_location'];

/** Per expression class: the `type` values allowed, and the fields of the class. */
const CLASSES: Readonly<Record<string, { types: ReadonlySet<string>; fields: readonly string[] }>> = {
  COLUMN_REF: { types: new Set(['COLUMN_REF']), fields: ['column_names'] },
  CONSTANT: { types: new Set(['VALUE_CONSTANT']), fields: ['value'] },
  PARAMETER: { types: new Set(['VALUE_PARAMETER']), fields: ['identifier'] },
  COMPARISON: {
    types: new Set([
      'COMPARE_EQUAL',
      'COMPARE_NOTEQUAL',
      'COMPARE_LESSTHAN',
      'COMPARE_GREATERTHAN',
      'COMPARE_LESSTHANOREQUALTO',
      'COMPARE_GREATERTHANOREQUALTO',
      'COMPARE_DISTINCT_FROM',
      'COMPARE_NOT_DISTINCT_FROM',
    ]),
    fields: ['left', 'right'],
  },
  CONJUNCTION: { types: new Set(['CONJUNCTION_AND', 'CONJUNCTION_OR']), fields: ['children'] },
  OPERATOR: {
    // NOT, IS [NOT] NULL, [NOT] IN (list), and the operator spellings of scalar functions:
    // COALESCE, l[i] and l[i:j].
    types: new Set([
      'OPERATOR_NOT',
      'OPERATOR_IS_NULL',
      'OPERATOR_IS_NOT_NULL',
      'COMPARE_IN',
      'COMPARE_NOT_IN',
      'OPERATOR_COALESCE',
      'ARRAY_EXTRACT',
      'ARRAY_SLICE',
    ]),
    fields: ['children'],
  },
  BETWEEN: { types: new Set(['COMPARE_BETWEEN']), fields: ['input', 'lower', 'upper'] },
  // LIKE, ILIKE, SIMILAR TO and GLOB arrive as functions (`~~`, `~~*`, `!~~`, `regexp_full_match`…).
  FUNCTION: {
    types: new Set(['FUNCTION']),
    fields: [
      'function_name',
      'schema',
      'catalog',
      'children',
      'filter',
      'order_bys',
      'distinct',
      'is_operator',
      'export_state',
    ],
  },
  CASE: { types: new Set(['CASE_EXPR']), fields: ['case_checks', 'else_expr'] },
  CAST: { types: new Set(['OPERATOR_CAST']), fields: ['child', 'cast_type', 'try_cast'] },
};

const REFUSED_CLASSES: Readonly<Record<string, string>> = {
  SUBQUERY: 'subqueries are not allowed in a policy filter',
  WINDOW: 'window functions are not allowed in a policy filter',
  STAR: '* and COLUMNS(…) are not allowed in a policy filter',
  LAMBDA: 'lambda expressions are not allowed in a policy filter',
  POSITIONAL_REFERENCE: 'positional references (#n) are not allowed in a policy filter',
};

/** DuckDB's parser refuses nesting beyond 1,000 levels; this only bounds our own recursion. */
const MAX_DEPTH = 2_000;
const MAX_NAME_IN_DETAIL = 64;

const isNode = (value: unknown): value is Node =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

const unsupported = () => invalidPolicy('the filter holds a construct that a policy filter does not allow');

class FilterWalk {
  readonly #scope: FilterScope;
  /** The parameters met as values. */
  readonly parameterUses = new Set<string>();

  constructor(scope: FilterScope) {
    this.#scope = scope;
  }

  expression(value: unknown, depth: number): void {
    if (depth > MAX_DEPTH) throw invalidPolicy('the filter is nested too deeply');
    if (!isNode(value) || typeof value.class !== 'string') throw unsupported();
    if (Object.hasOwn(REFUSED_CLASSES, value.class))
      throw invalidPolicy(REFUSED_CLASSES[value.class] as string);
    const known = Object.hasOwn(CLASSES, value.class) ? CLASSES[value.class] : undefined;
    if (!known || typeof value.type !== 'string' || !known.types.has(value.type)) throw unsupported();
    for (const key of Object.keys(value))
      if (!COMMON_FIELDS.includes(key) && !known.fields.includes(key)) throw unsupported();
    const next = depth + 1;
    switch (value.class) {
      case 'COLUMN_REF':
        this.#column(value.column_names);
        return;
      case 'CONSTANT':
        return;
      case 'PARAMETER':
        this.#parameter(value.identifier);
        return;
      case 'COMPARISON':
        this.expression(value.left, next);
        this.expression(value.right, next);
        return;
      case 'CONJUNCTION':
      case 'OPERATOR':
        this.#list(value.children, next);
        return;
      case 'BETWEEN':
        this.expression(value.input, next);
        this.expression(value.lower, next);
        this.expression(value.upper, next);
        return;
      case 'FUNCTION':
        this.#function(value);
        this.#list(value.children, next);
        return;
      case 'CASE':
        this.#case(value, next);
        return;
      case 'CAST':
        // The cast's type is a type, not an expression: no value of the table can hide in it.
        this.expression(value.child, next);
        return;
    }
  }

  #list(children: unknown, depth: number): void {
    if (!Array.isArray(children)) throw unsupported();
    for (const child of children) this.expression(child, depth);
  }

  #column(names: unknown): void {
    if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string'))
      throw unsupported();
    if (names.length > 1)
      throw invalidPolicy(
        'qualified column references (table.column) are not allowed; name the column alone',
      );
    const name = names[0] as string;
    if (!this.#scope.columns.has(name.toLowerCase()))
      throw invalidPolicy(`"${name.slice(0, MAX_NAME_IN_DETAIL)}" is not a column of the table`);
  }

  #parameter(identifier: unknown): void {
    if (typeof identifier !== 'string' || !this.#scope.parameters.has(identifier))
      throw invalidPolicy('query parameters are not allowed in a policy filter; use a placeholder');
    this.parameterUses.add(identifier);
  }

  #function(call: Node): void {
    try {
      checkFunctionCall(call);
    } catch {
      throw invalidPolicy(
        'the filter calls a function that is not allowed (only the scalar functions an analyst may call are)',
      );
    }
    if (isNonScalarFunction(String(call.function_name)))
      throw invalidPolicy('aggregate functions and row generators are not allowed in a policy filter');
    if (isUnstableFunction(String(call.function_name)))
      throw invalidPolicy(
        'functions whose result changes between runs (time, random, sequences) are not allowed in a policy filter: its slice is built once per table version',
      );
    // DISTINCT, FILTER, ORDER BY inside the call and exported state only exist for aggregates.
    const orderBys = call.order_bys;
    const noOrder =
      isNode(orderBys) &&
      orderBys.type === 'ORDER_MODIFIER' &&
      Array.isArray(orderBys.orders) &&
      orderBys.orders.length === 0;
    if (call.filter !== null || call.distinct !== false || call.export_state !== false || !noOrder)
      throw invalidPolicy('aggregate functions and row generators are not allowed in a policy filter');
  }

  #case(node: Node, depth: number): void {
    if (!Array.isArray(node.case_checks)) throw unsupported();
    for (const check of node.case_checks) {
      if (!isNode(check)) throw unsupported();
      for (const key of Object.keys(check))
        if (key !== 'when_expr' && key !== 'then_expr') throw unsupported();
      this.expression(check.when_expr, depth);
      this.expression(check.then_expr, depth);
    }
    this.expression(node.else_expr, depth);
  }
}

/**
 * Checks the WHERE tree of a filter against the rules above; each parameter of the scope must be
 * in the tree, as a value (the parser copies it once per WHEN of `CASE {{…}} WHEN …`, hence
 * "at least").
 */
export function walkFilter(where: unknown, scope: FilterScope): void {
  const walk = new FilterWalk(scope);
  walk.expression(where, 0);
  for (const parameter of scope.parameters)
    if (!walk.parameterUses.has(parameter))
      throw invalidPolicy('a placeholder must stand alone where a value may stand');
}

import { AgnesError } from '../errors.js';
import { VIEW_NAME_PATTERN } from '../ids.js';
import { isAllowedFunction, isAllowedTableFunction, namesAFunctionInAString } from './function-rules.js';
import type { TableAccess } from './types.js';

/**
 * The tree walk of 05 §3 over the output of `json_serialize_sql`. Every object of the tree is
 * visited, whatever field holds it, so no clause escapes the rules; what the walker does not know
 * it refuses. Query nodes and table references are recognised by their shape (query nodes carry a
 * `cte_map`; table references an `alias`, a `sample` and a `query_location` but no `class`), and
 * additionally required in the fields that must hold them.
 */

type TreeObject = Record<string, unknown>;

const QUERY_NODE_TYPES: ReadonlySet<string> = new Set([
  'SELECT_NODE',
  'SET_OPERATION_NODE',
  'CTE_NODE',
  'RECURSIVE_CTE_NODE',
]);

const TABLE_REF_TYPES: ReadonlySet<string> = new Set([
  'BASE_TABLE',
  'JOIN',
  'SUBQUERY',
  'TABLE_FUNCTION',
  'EMPTY',
  'EXPRESSION_LIST',
  'PIVOT',
]);

/** Every table reference type of DuckDB 1.5; only those above are allowed. */
const KNOWN_TABLE_REF_TYPES: ReadonlySet<string> = new Set([
  ...TABLE_REF_TYPES,
  'SHOW_REF',
  'CTE',
  'COLUMN_DATA',
  'DELIM_GET',
  'BOUND_TABLE_REF',
  'INVALID',
]);

/** DuckDB's parser refuses nesting beyond 1,000 levels; this only bounds our own recursion. */
const MAX_DEPTH = 10_000;

/** CTE names in scope at one level of the tree; parents hold the enclosing `WITH` clauses. */
interface Scope {
  readonly names: ReadonlySet<string>;
  readonly parent: Scope | null;
}

const ROOT: Scope = { names: new Set(), parent: null };

function extend(scope: Scope, names: readonly string[]): Scope {
  return names.length === 0 ? scope : { names: new Set(names), parent: scope };
}

function inScope(scope: Scope | null, name: string): boolean {
  for (let s = scope; s; s = s.parent) if (s.names.has(name)) return true;
  return false;
}

const isObject = (value: unknown): value is TreeObject =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function isQueryNode(value: TreeObject): boolean {
  if ('class' in value) return false;
  return 'cte_map' in value || (typeof value.type === 'string' && value.type.endsWith('_NODE'));
}

function isTableRef(value: TreeObject): boolean {
  if ('class' in value || typeof value.type !== 'string') return false;
  return (
    KNOWN_TABLE_REF_TYPES.has(value.type) ||
    ('alias' in value && 'sample' in value && 'query_location' in value)
  );
}

const unsupported = (detail: string) => new AgnesError('unsupported_construct', detail);

function describeRef(type: string): string {
  if (type === 'SHOW_REF') return 'DESCRIBE, SHOW and SUMMARIZE are not supported';
  return `unsupported table reference (${type.toLowerCase()})`;
}

/** The result of a successful walk: the table ids the statement reads. */
export interface WalkResult {
  tables: string[];
  /** SELECT nodes in the tree, to compare with the SELECT keywords of the text. */
  selectNodes: number;
}

class TreeWalk {
  readonly #access: TableAccess;
  readonly tables = new Set<string>();
  selectNodes = 0;

  constructor(access: TableAccess) {
    this.#access = access;
  }

  value(value: unknown, scope: Scope, depth: number): void {
    if (depth > MAX_DEPTH) throw unsupported('the query is nested too deeply');
    if (Array.isArray(value)) {
      for (const item of value) this.value(item, scope, depth + 1);
      return;
    }
    if (!isObject(value)) return;
    if (isQueryNode(value)) this.queryNode(value, scope, depth, null);
    else if (isTableRef(value)) this.tableRef(value, scope, depth);
    else {
      if ('class' in value) checkFunctionCall(value);
      if ('node' in value) this.#requireQueryNode(value.node);
      this.fields(value, scope, depth);
    }
  }

  fields(value: TreeObject, scope: Scope, depth: number, skip?: ReadonlySet<string>): void {
    for (const [key, child] of Object.entries(value)) {
      if (!skip?.has(key)) this.value(child, scope, depth + 1);
    }
  }

  /**
   * A query node. `recursiveName` is set when the node is the body of a `WITH RECURSIVE` CTE of
   * that name: only then, and only in its recursive branch (`right`), does the name mean the CTE.
   */
  queryNode(node: TreeObject, scope: Scope, depth: number, recursiveName: string | null): void {
    const type = String(node.type);
    if (!QUERY_NODE_TYPES.has(type)) throw unsupported(`unsupported query construct (${type.toLowerCase()})`);
    const inner = this.#cteMap(node.cte_map, scope, depth);
    if (type === 'SELECT_NODE') {
      this.selectNodes += 1;
      this.#requireTableRef(node.from_table);
    }
    if (type === 'SET_OPERATION_NODE' || type === 'RECURSIVE_CTE_NODE') {
      if ('left' in node) this.#requireQueryNode(node.left);
      if ('right' in node) this.#requireQueryNode(node.right);
    }
    const recursive =
      type === 'RECURSIVE_CTE_NODE' && recursiveName !== null && node.cte_name === recursiveName;
    for (const [key, child] of Object.entries(node)) {
      if (key === 'cte_map') continue;
      const childScope = recursive && key === 'right' ? extend(inner, [recursiveName]) : inner;
      this.value(child, childScope, depth + 1);
    }
  }

  /** Walks every CTE body in declaration order; returns the scope of the node's own clauses. */
  #cteMap(cteMap: unknown, scope: Scope, depth: number): Scope {
    if (cteMap === undefined || cteMap === null) return scope;
    if (!isObject(cteMap) || !Array.isArray(cteMap.map)) throw unsupported('unsupported WITH clause');
    const names: string[] = [];
    for (const entry of cteMap.map) {
      if (!isObject(entry) || typeof entry.key !== 'string' || !isObject(entry.value))
        throw unsupported('unsupported WITH clause');
      // Earlier CTEs of the same WITH are in scope, the CTE itself and later ones are not.
      const before = extend(scope, names);
      const { query, ...rest } = entry.value;
      if (!isObject(query)) throw unsupported('unsupported WITH clause');
      this.#requireQueryNode(query.node);
      const body = query.node as TreeObject;
      for (const [key, child] of Object.entries(query)) {
        if (key === 'node') this.queryNode(body, before, depth + 2, entry.key);
        else this.value(child, before, depth + 2);
      }
      this.value(rest, before, depth + 1);
      names.push(entry.key);
    }
    return extend(scope, names);
  }

  tableRef(ref: TreeObject, scope: Scope, depth: number): void {
    const type = String(ref.type);
    if (!TABLE_REF_TYPES.has(type)) throw unsupported(describeRef(type));
    if (ref.at_clause !== undefined && ref.at_clause !== null)
      throw unsupported('time travel (AT) is not supported');
    switch (type) {
      case 'BASE_TABLE':
        this.#baseTable(ref, scope);
        break;
      case 'JOIN':
        this.#requireTableRef(ref.left);
        this.#requireTableRef(ref.right);
        break;
      case 'SUBQUERY':
        if (!isObject(ref.subquery)) throw unsupported('unsupported subquery');
        this.#requireQueryNode(ref.subquery.node);
        break;
      case 'TABLE_FUNCTION':
        this.#tableFunction(ref.function);
        break;
      case 'PIVOT':
        this.#requireTableRef(ref.source);
        break;
    }
    this.fields(ref, scope, depth);
  }

  #baseTable(ref: TreeObject, scope: Scope): void {
    const name = ref.table_name;
    const schema = ref.schema_name ?? '';
    const catalog = ref.catalog_name ?? '';
    if (typeof name !== 'string' || !VIEW_NAME_PATTERN.test(name))
      throw new AgnesError(
        'invalid_table_reference',
        'tables must be referenced by view name; files, URLs and quoted paths are not allowed',
      );
    if (typeof schema !== 'string' || typeof catalog !== 'string')
      throw new AgnesError('table_forbidden', 'qualified table names are not allowed; use the view name');
    if (catalog !== '' || (schema !== '' && schema.toLowerCase() !== 'main'))
      throw new AgnesError('table_forbidden', 'qualified table names are not allowed; use the view name');
    if (name.startsWith('_')) throw new AgnesError('table_forbidden', 'internal tables are not accessible');
    // Only an unqualified name can mean a CTE, and only one certainly in scope (exact spelling).
    if (schema === '' && inScope(scope, name)) return;
    const id = name.toLowerCase();
    if (this.#access.readable.has(id)) {
      this.tables.add(id);
      return;
    }
    if (this.#access.isVisible(id))
      throw new AgnesError('table_forbidden', `you do not have read access to table ${id}`);
    throw new AgnesError('unknown_table', `table ${id} does not exist`);
  }

  #tableFunction(fn: unknown): void {
    if (!isObject(fn) || fn.class !== 'FUNCTION' || typeof fn.function_name !== 'string')
      throw new AgnesError(
        'forbidden_function',
        'only the table functions range, generate_series and unnest are allowed',
      );
    // Table functions are never written qualified by the parser: any qualification is refused.
    if ((fn.schema ?? '') !== '' || (fn.catalog ?? '') !== '')
      throw new AgnesError('forbidden_function', 'qualified function names are not allowed');
    if (!isAllowedTableFunction(fn.function_name))
      throw new AgnesError(
        'forbidden_function',
        `table function ${fn.function_name.toLowerCase()} is not allowed; only range, generate_series and unnest are`,
      );
  }

  #requireQueryNode(value: unknown): void {
    if (!isObject(value) || !isQueryNode(value)) throw unsupported('unsupported query construct');
  }

  #requireTableRef(value: unknown): void {
    if (!isObject(value) || !isTableRef(value)) throw unsupported('unsupported table reference');
  }
}

/**
 * The function rules of 05 §3 for one expression naming a function (scalar, aggregate, window or
 * table function); a no-op for other expressions. Shared with the policy filter walk (12 §2).
 */
export function checkFunctionCall(expression: Record<string, unknown>): void {
  if (!('function_name' in expression)) return;
  const name = expression.function_name;
  if (typeof name !== 'string') throw unsupported('unsupported function call');
  if (isQualified(expression))
    throw new AgnesError('forbidden_function', 'qualified function names are not allowed');
  if (!isAllowedFunction(name))
    throw new AgnesError(
      'forbidden_function',
      `function ${name.toLowerCase()} does not exist or is not allowed`,
    );
  if (namesAFunctionInAString(name)) {
    const named = constantString(Array.isArray(expression.children) ? expression.children[1] : undefined);
    if (named === null || !isAllowedFunction(named))
      throw new AgnesError(
        'forbidden_function',
        `${name.toLowerCase()} takes the name of an allowed aggregate as a string literal`,
      );
  }
}

/** The value of a VARCHAR literal, or null for anything else (a column, an expression, NULL). */
function constantString(value: unknown): string | null {
  if (!isObject(value) || value.class !== 'CONSTANT' || !isObject(value.value)) return null;
  const literal = value.value;
  return literal.is_null === false && typeof literal.value === 'string' ? literal.value : null;
}

/**
 * A function named with a catalog or a schema. `main` without a catalog is the same lookup as an
 * unqualified name, and DuckDB's parser writes it itself for list literals (`[1, 2]` becomes
 * `main.list_value(1, 2)`), so it is not a qualification; the allow-list applies to the name anyway.
 */
function isQualified(expression: TreeObject): boolean {
  const schema = expression.schema ?? '';
  const catalog = expression.catalog ?? '';
  if (typeof schema !== 'string' || typeof catalog !== 'string') return true;
  return catalog !== '' || (schema !== '' && schema.toLowerCase() !== 'main');
}

/**
 * Checks one serialised statement (`statements[0]` of `json_serialize_sql`) against the caller's
 * tables. Throws the `AgnesError` of the first rule broken.
 */
export function walkStatement(statement: unknown, access: TableAccess): WalkResult {
  if (!isObject(statement) || !isObject(statement.node)) throw unsupported('unsupported statement');
  const walk = new TreeWalk(access);
  walk.value(statement, ROOT, 0);
  return { tables: [...walk.tables].sort(), selectNodes: walk.selectNodes };
}

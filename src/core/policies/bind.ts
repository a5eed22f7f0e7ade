import { isDeepStrictEqual } from 'node:util';
import { quoteIdent } from '../duckdb/sql.js';
import { AgnesError } from '../errors.js';
import type { SqlParser } from '../query/sql-parser.js';
import { type FilterScope, walkFilter } from './filter-walk.js';
import {
  invalidPolicy,
  type Placeholder,
  type PlaceholderUse,
  scanBound,
  scanTemplate,
  substitute,
} from './placeholders.js';
import type { PolicySubject, TableColumn } from './types.js';

/**
 * Filter templates and their binding (12 §2). A template is validated on
 * `SELECT 1 FROM "t" WHERE (<filter>\n)` with each placeholder replaced by a parameter; binding
 * replaces each placeholder by a literal the engine writes (`json_deserialize_sql` of a constant
 * node, so quoting is DuckDB's own), validates the bound text again with the same walk, and
 * requires its tree to be the template's with those literals where the parameters were. The
 * table name is irrelevant: nothing here binds against a catalog.
 */

type Node = Record<string, unknown>;

const wrap = (filter: string) => `SELECT 1 FROM "t" WHERE (${filter}\n)`;
const parameterName = (index: number) => `p${index}`;

/** A validated template: its placeholders and its WHERE tree (with parameters). */
interface FilterTemplate {
  uses: PlaceholderUse[];
  where: Node;
}

/** The tree without `query_location` fields, which differ whenever a literal's length does. */
function withoutLocations(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLocations);
  if (value === null || typeof value !== 'object') return value;
  const copy: Node = {};
  for (const [key, child] of Object.entries(value))
    if (key !== 'query_location') copy[key] = withoutLocations(child);
  return copy;
}

interface References {
  /** The wrapper statement's SELECT node without its WHERE: every filter must leave it so. */
  skeleton: Node;
  /** `SELECT NULL`, whose select list is replaced to have the engine write a literal. */
  select: Node;
}

const references = new WeakMap<SqlParser, Promise<References>>();

function referencesOf(parser: SqlParser): Promise<References> {
  let found = references.get(parser);
  if (!found) {
    found = (async () => {
      const wrapper = withoutLocations((await parser.serialize(wrap('TRUE'))).statement) as { node: Node };
      const { where_clause: _where, ...skeleton } = wrapper.node;
      const select = withoutLocations((await parser.serialize('SELECT NULL')).statement) as Node;
      return { skeleton, select };
    })();
    // A failed attempt (the parser closing) is not remembered.
    found.catch(() => references.delete(parser));
    references.set(parser, found);
  }
  return found;
}

/** Parses and walks one filter text; returns its WHERE tree without locations. */
async function parseFilter(parser: SqlParser, text: string, scope: FilterScope): Promise<Node> {
  const parsed = await parser.serialize(wrap(text)).catch((error: unknown) => {
    if (!(error instanceof AgnesError)) throw error;
    if (error.code === 'not_select' || error.code === 'multiple_statements')
      throw invalidPolicy('a policy filter is one expression; a second statement is not allowed');
    if (error.code === 'invalid_sql' || error.code === 'empty_query')
      throw invalidPolicy('the filter does not parse as one DuckDB expression');
    throw error;
  });
  const statement = withoutLocations(parsed.statement) as { node?: unknown };
  const { skeleton } = await referencesOf(parser);
  for (const key of Object.keys(statement))
    if (key !== 'node' && key !== 'named_param_map') throw invalidPolicy('the filter must be one expression');
  const node = statement.node as Node;
  const { where_clause: where, ...rest } = node ?? {};
  // `a) UNION SELECT … WHERE (b` or `a) GROUP BY (b` parse; the statement around them must not change.
  if (!isDeepStrictEqual(rest, skeleton)) throw invalidPolicy('the filter must be one expression');
  walkFilter(where, scope);
  return where as Node;
}

const lowerColumns = (columns: readonly TableColumn[]) =>
  new Set(columns.map((column) => column.name.toLowerCase()));

/** Validates a filter template against the table's columns (12 §2); throws `invalid_policy`. */
async function compileFilter(
  parser: SqlParser,
  filter: string,
  columns: readonly TableColumn[],
): Promise<FilterTemplate> {
  const uses = scanTemplate(filter);
  const text = substitute(filter, uses, (_use, index) => `$${parameterName(index)}`);
  const parameters = new Set(uses.map((_use, index) => parameterName(index)));
  const where = await parseFilter(parser, text, { columns: lowerColumns(columns), parameters });
  return { uses, where };
}

/**
 * Write-time check of a filter template (12 §2): its shape, names and placeholders, and that it
 * fits the types of the table's current columns, with each placeholder a typed value of its kind
 * (an empty list: a NULL list would fit any element type).
 */
export async function checkTemplate(
  parser: SqlParser,
  filter: string,
  columns: readonly TableColumn[],
): Promise<void> {
  const template = await compileFilter(parser, filter, columns);
  const typed = substitute(filter, template.uses, (use) =>
    use.placeholder.kind === 'email' || use.placeholder.kind === 'id'
      ? 'CAST(NULL AS VARCHAR)'
      : 'CAST([] AS VARCHAR[])',
  );
  await checkTypes(parser, `(${typed}\n)`, columns);
}

/** What a placeholder stands for, for one subject (12 §2): a scalar or a list of strings. */
function placeholderValue(placeholder: Placeholder, subject: PolicySubject): string | readonly string[] {
  switch (placeholder.kind) {
    case 'email':
      return subject.email;
    case 'id':
      return subject.id;
    case 'groups':
      // Sorted and once each, so that one membership always binds to one text (one slice).
      return [...new Set(subject.groups.map((group) => group.name))].sort();
    case 'attr':
      return Object.hasOwn(subject.attributes, placeholder.key)
        ? (subject.attributes[placeholder.key] ?? [])
        : [];
  }
}

const VARCHAR = { id: 'VARCHAR', type_info: null };
const VARCHAR_LIST = {
  id: 'LIST',
  type_info: { type: 'LIST_TYPE_INFO', alias: '', extension_info: null, child_type: VARCHAR },
};

const constantNode = (value: string): Node => ({
  class: 'CONSTANT',
  type: 'VALUE_CONSTANT',
  alias: '',
  value: { type: VARCHAR, is_null: false, value },
});

/** The node of a typed literal, exactly as DuckDB's parser produces it for `CAST(… AS VARCHAR[])`. */
function literalNode(value: string | readonly string[]): Node {
  const child =
    typeof value === 'string'
      ? constantNode(value)
      : {
          class: 'FUNCTION',
          type: 'FUNCTION',
          alias: '',
          function_name: 'list_value',
          schema: 'main',
          children: value.map(constantNode),
          filter: null,
          order_bys: { type: 'ORDER_MODIFIER', orders: [] },
          distinct: false,
          is_operator: false,
          export_state: false,
          catalog: '',
        };
  return {
    class: 'CAST',
    type: 'OPERATOR_CAST',
    alias: '',
    child,
    cast_type: typeof value === 'string' ? VARCHAR : VARCHAR_LIST,
    try_cast: false,
  };
}

const SELECT_PREFIX = 'SELECT ';

/** The SQL text of a literal node, written by the engine (`json_deserialize_sql`). */
async function literalText(parser: SqlParser, node: Node): Promise<string> {
  const { select } = await referencesOf(parser);
  const statement = { ...select, node: { ...(select.node as Node), select_list: [node] } };
  const unbindable = () => invalidPolicy('a placeholder value could not be bound');
  // The engine refuses some values (a lone UTF-16 surrogate is not valid JSON text); its message
  // quotes the value, so it is replaced, not passed on.
  const text = await parser
    .deserialize(JSON.stringify({ error: false, statements: [statement] }))
    .catch((error: unknown) => {
      if (error instanceof AgnesError) throw error;
      throw unbindable();
    });
  if (!text.startsWith(SELECT_PREFIX)) throw unbindable();
  return text.slice(SELECT_PREFIX.length);
}

/** The same tree with each parameter replaced by its literal node. */
function withLiterals(value: unknown, literals: ReadonlyMap<string, Node>): unknown {
  if (Array.isArray(value)) return value.map((item) => withLiterals(item, literals));
  if (value === null || typeof value !== 'object') return value;
  const node = value as Node;
  if (node.class === 'PARAMETER' && typeof node.identifier === 'string') {
    const literal = literals.get(node.identifier);
    if (literal) return literal;
  }
  const copy: Node = {};
  for (const [key, child] of Object.entries(node)) copy[key] = withLiterals(child, literals);
  return copy;
}

/**
 * Bound texts already validated, per parser. Binding is a pure function of the filter, the
 * table's columns and the placeholders' values, and it runs on every request to a bound table
 * (a few parser round trips per policy), so its result is kept; the bounded size only limits memory.
 */
const MAX_CACHED = 2_000;
const validated = new WeakMap<SqlParser, Map<string, string>>();

async function cached(parser: SqlParser, key: string, work: () => Promise<string>): Promise<string> {
  let cache = validated.get(parser);
  if (!cache) {
    cache = new Map();
    validated.set(parser, cache);
  }
  const hit = cache.get(key);
  if (hit !== undefined) {
    // Most recently used last, so the oldest entry is the first to go.
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const result = await work();
  cache.set(key, result);
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value as string);
  return result;
}

const columnsKey = (columns: readonly TableColumn[]) => [...lowerColumns(columns)].sort();

/**
 * The bound text of a filter for one subject, parenthesised (`(<bound>\n)`, the text that was
 * validated), ready to be OR-ed with others. Throws `invalid_policy` when the policy no longer
 * binds (a column gone, a tree that differs from the template's).
 */
export async function bindFilter(
  parser: SqlParser,
  filter: string,
  columns: readonly TableColumn[],
  subject: PolicySubject,
): Promise<string> {
  const values = scanTemplate(filter).map((use) => placeholderValue(use.placeholder, subject));
  const key = JSON.stringify(['bind', filter, columnsKey(columns), values]);
  const bound = await cached(parser, key, () => bindValues(parser, filter, columns, values));
  await checkTypes(parser, bound, columns);
  return bound;
}

/**
 * Refuses a bound filter that no longer fits the types of the table's current columns (12 §2: a
 * type change that makes the filter fail), which the walk cannot see: the engine binds it over a
 * row of typed NULLs. Without this the slice build itself fails, on every request, and the
 * policy's readers get errors instead of the empty view. Cached by the columns' types too.
 */
async function checkTypes(parser: SqlParser, bound: string, columns: readonly TableColumn[]): Promise<void> {
  const row = columns.map(({ name, type }) => `CAST(NULL AS ${type}) AS ${quoteIdent(name)}`).join(', ');
  const sql = `SELECT 1 FROM (SELECT ${row}) AS "t" WHERE ${bound}`;
  const key = JSON.stringify(['types', sql]);
  await cached(parser, key, async () => {
    if (!(await parser.binds(sql)))
      throw invalidPolicy("the filter does not fit the types of the table's current columns");
    return '';
  });
}

async function bindValues(
  parser: SqlParser,
  filter: string,
  columns: readonly TableColumn[],
  values: readonly (string | readonly string[])[],
): Promise<string> {
  const template = await compileFilter(parser, filter, columns);
  const nodes = values.map(literalNode);
  const texts: string[] = [];
  for (const node of nodes) texts.push(await literalText(parser, node));
  const bound = substitute(filter, template.uses, (_use, index) => texts[index] as string);
  scanBound(bound);
  const where = await parseFilter(parser, bound, { columns: lowerColumns(columns), parameters: new Set() });
  const expected = withLiterals(
    template.where,
    new Map(nodes.map((node, index) => [parameterName(index), node])),
  );
  if (!isDeepStrictEqual(where, expected))
    throw invalidPolicy('the bound filter does not have the shape of its template');
  return `(${bound}\n)`;
}

/**
 * The OR of several bound filters, checked once more as a whole (defence in depth: each part was
 * already validated inside its own parentheses, so the whole cannot mean anything else).
 */
export async function combineBound(
  parser: SqlParser,
  bound: readonly string[],
  columns: readonly TableColumn[],
): Promise<string> {
  const combined = bound.join(' OR ');
  if (bound.length < 2) return combined;
  return cached(parser, JSON.stringify(['combine', combined, columnsKey(columns)]), async () => {
    scanBound(combined);
    await parseFilter(parser, combined, { columns: lowerColumns(columns), parameters: new Set() });
    return combined;
  });
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgnesError } from '../../../src/core/errors.js';
import { validateMasks, validatePolicyFilter } from '../../../src/core/policies/evaluate.js';
import type { TableColumn } from '../../../src/core/policies/types.js';
import { SqlParser } from '../../../src/core/query/sql-parser.js';

/** The filter language of 12 §2, checked at write time against the real DuckDB parser. */

const COLUMNS: TableColumn[] = [
  { name: 'region', type: 'VARCHAR' },
  { name: 'amount', type: 'DOUBLE' },
  { name: 'Owner_Email', type: 'VARCHAR' },
  { name: 'created_at', type: 'TIMESTAMP' },
  { name: 'tags', type: 'VARCHAR[]' },
  { name: 'status', type: 'VARCHAR' },
];

/** A literal no refusal may echo: it stands for a secret an admin typed into a filter. */
const SECRET = 'sk_live_SECRET_51Hx';

let parser: SqlParser;
beforeAll(async () => {
  parser = await SqlParser.open();
});
afterAll(() => parser?.close());

async function refusal(filter: string): Promise<AgnesError> {
  const error = await validatePolicyFilter(parser, filter, COLUMNS).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `accepted: ${filter}`).toBeInstanceOf(AgnesError);
  const agnes = error as AgnesError;
  expect(agnes.code).toBe('invalid_policy');
  expect(agnes.status).toBe(422);
  return agnes;
}

describe('policy filter: accepted at write time (12 §2)', () => {
  it.each([
    "region = 'EU'",
    "REGION = 'EU' AND amount > 10",
    '"region" = {{user.email}}',
    "owner_email = {{user.email}} OR status <> 'closed'",
    'list_contains({{user.attr.regions}}, region)',
    'list_contains({{user.groups}}, status) AND owner_email = {{user.id}}',
    'amount BETWEEN 1 AND 100',
    'amount NOT BETWEEN 1 AND 100',
    "region LIKE 'E%'",
    "region ILIKE 'e%'",
    "region NOT LIKE '%x' AND status NOT ILIKE 'y%'",
    "region LIKE 'E!%' ESCAPE '!'",
    "CASE WHEN amount > 10 THEN region = 'EU' ELSE FALSE END",
    "CASE WHEN amount > 10 THEN 'big' END = 'big'",
    "CAST(amount AS INTEGER) > 3 AND amount::VARCHAR <> '' AND TRY_CAST(region AS INTEGER) IS NULL",
    'region IS NULL OR region IS NOT NULL',
    "region IN ('EU', 'US') AND status NOT IN ('x')",
    "NOT (region = 'EU')",
    "lower(region) = 'eu' AND starts_with(status, 'o') AND length(region) < 10",
    "created_at >= TIMESTAMP '2024-01-01' AND date_trunc('month', created_at) < DATE '2030-01-01'",
    "coalesce(region, '') <> '' AND tags[1] = 'a' AND len(tags[1:2]) = 1",
    'list_sum([1, 2]) = 3 AND region IS DISTINCT FROM status',
    "region = 'it''s fine -- not a comment'",
    "region = '/* not a comment */' OR region = 'a;b'",
    "struct_extract({'a': region}, 'a') = 'EU'",
    'amount > 1\n',
  ])('%s', async (filter) => {
    await expect(validatePolicyFilter(parser, filter, COLUMNS)).resolves.toBeUndefined();
  });

  it('accepts exactly 4,000 characters', async () => {
    const filter = `region = '${'x'.repeat(4_000 - 11)}'`;
    expect(filter).toHaveLength(4_000);
    await expect(validatePolicyFilter(parser, filter, COLUMNS)).resolves.toBeUndefined();
  });
});

describe('policy filter: refused at write time (12 §2)', () => {
  it.each([
    ['a subquery', "region IN (SELECT region FROM t WHERE x = 'sk')", 'subquer'],
    ['an EXISTS subquery', 'EXISTS (SELECT 1)', 'subquer'],
    ['a scalar subquery', '(SELECT max(amount) FROM orders) > amount', 'subquer'],
    ['a qualified column', "t.region = 'EU'", 'qualified column'],
    ['another table by name', "payments.region = 'EU'", 'qualified column'],
    ['a catalog-qualified column', "sample.main.payments.region = 'EU'", 'qualified column'],
    ['read_parquet', "(SELECT count(*) FROM read_parquet('/data/x.parquet')) > 0", 'subquer'],
    ['read_parquet as a scalar', "read_parquet('/data/x.parquet') IS NOT NULL", 'not allowed'],
    ['read_csv', "read_csv('/etc/passwd') IS NULL", 'not allowed'],
    ['a qualified function', 'system.main.lower(region) = region', 'not allowed'],
    ['getenv', "getenv('HOME') = region", 'not allowed'],
    ['query()', "query('select 1') IS NULL", 'not allowed'],
    ['an unknown column', "secret_col = 'EU'", '"secret_col" is not a column'],
    ['an aggregate', 'sum(amount) > 10', 'aggregate'],
    ['count(*)', 'count(*) > 0', 'aggregate'],
    ['an aggregate macro', 'geomean(amount) > 1', 'aggregate'],
    ['an aggregate with FILTER', 'max(amount) FILTER (WHERE amount > 1) > 0', 'aggregate'],
    ['a window function', 'row_number() OVER () < 10', 'window'],
    ['a windowed aggregate', 'sum(amount) OVER (PARTITION BY region) > 1', 'window'],
    ['unnest', "unnest(tags) = 'a'", 'aggregate functions and row generators'],
    ['the time', "created_at >= now() - INTERVAL '30 days'", 'changes between runs'],
    ['the date', 'CAST(created_at AS DATE) >= today() - 30', 'changes between runs'],
    ['chance', 'random() < 0.5', 'changes between runs'],
    ['a second statement', "region = 'EU'; DROP TABLE t", '";" is not allowed'],
    ['a second statement after a parenthesis', "region = 'EU'); SELECT (1", 'parentheses'],
    ['a line comment', "region = 'EU' -- OR TRUE", 'comments'],
    ['a block comment', "region = /* x */ 'EU'", 'comments'],
    [
      'a UNION smuggled through the wrapper',
      "TRUE) UNION SELECT 1 FROM x WHERE (region = 'EU'",
      'parentheses',
    ],
    ['a GROUP BY smuggled through the wrapper', 'TRUE) GROUP BY (region', 'parentheses'],
    ['a placeholder in a string', "region = '{{user.email}}'", 'string literal'],
    ['a placeholder in a quoted identifier', '"{{user.email}}" = region', 'quoted identifier'],
    ['a placeholder in a dollar string', 'region = $${{user.email}}$$', 'string literal'],
    ['a placeholder in a comment', 'region = {{user.email}} -- {{user.id}}', 'comments'],
    ['a placeholder in an escape string', "region = E'\\'{{user.email}}'", 'string literal'],
    ['a placeholder in a type modifier', 'amount::DECIMAL({{user.id}}, 2) > 1', ''],
    ['a row generator macro', "regexp_split_to_table(region, ',') = 'a'", 'row generators'],
    ['an unknown placeholder', 'region = {{user.password}}', 'unknown placeholder'],
    ['an unknown placeholder root', 'region = {{env.HOME}}', 'unknown placeholder'],
    ['a placeholder named like an Object property', 'region = {{constructor}}', 'unknown placeholder'],
    ['a placeholder named __proto__', 'region = {{__proto__}}', 'unknown placeholder'],
    ['a spaced placeholder', 'region = {{ user.email }}', 'unknown placeholder'],
    ['a bad attribute key', 'list_contains({{user.attr.Regions}}, region)', 'key of a {{user.attr.<key>}}'],
    ['an over-long attribute key', `list_contains({{user.attr.${'a'.repeat(41)}}}, region)`, 'key of a'],
    ['nested braces', 'region = {{{user.email}}}', 'nothing else between the braces'],
    ['a placeholder glued to a word', "region = 'a' || x{{user.email}}", ''],
    ['a placeholder as a column name', '{{user.email}}.region = 1', ''],
    ['a placeholder as a type', 'CAST(region AS {{user.email}}) = 1', ''],
    ['a positional parameter', 'region = $1', 'query parameters'],
    ['a named parameter', 'region = $p0', 'query parameters'],
    ['a question-mark parameter', 'region = ?', 'query parameters'],
    ['a lambda', 'len(list_filter(tags, x -> x = region)) > 0', 'lambda'],
    ['a star', 'COLUMNS(*) IS NULL', '*'],
    ['a COLLATE', "region COLLATE nocase = 'eu'", 'construct'],
    ['a positional reference', '#1 = 1', 'positional'],
    ['a parse error', 'region = = 1', 'does not parse'],
    ['an empty filter', '   ', 'empty'],
    ['unbalanced parentheses', "(region = 'EU'", 'parentheses'],
    ['over 4,000 characters', `region = '${'x'.repeat(4_000)}'`, '4000 characters'],
  ])('%s', async (_name, filter, rule) => {
    const error = await refusal(filter);
    expect(error.detail).toContain(rule);
  });

  it('never echoes the literals or the text of a refused filter', async () => {
    const hostile = [
      `region = '${SECRET}' AND (SELECT 1) = 1`,
      `region = '${SECRET}' -- comment`,
      `region = '${SECRET}' AND sum(amount) > 1`,
      `region = '${SECRET}' AND read_csv('${SECRET}') IS NULL`,
      `region = '${SECRET}' AND t.region = 1`,
      `region = '${SECRET}' AND = 1`,
      `region = '${SECRET}'); SELECT ('${SECRET}'`,
      `region = '{{user.attr.${SECRET.toLowerCase()}X}}'`,
      `region = {{user.attr.X${SECRET}}}`,
      `region = {{${SECRET}}}`,
      `region LIKE '${SECRET}' AND row_number() OVER () = 1`,
      `${SECRET}(region)`,
    ];
    for (const filter of hostile) {
      const error = await refusal(filter);
      expect(error.detail).not.toContain(SECRET);
      expect(error.detail.toLowerCase()).not.toContain('sk_live');
      expect(error.message).not.toContain(SECRET);
      expect(error.cause).toBeUndefined();
    }
  });
});

describe('masked columns (12 §1)', () => {
  it('accepts existing columns, case-insensitively, each once, with null or hash', () => {
    expect(() =>
      validateMasks(
        [
          { column: 'owner_email', mask: 'hash' },
          { column: 'AMOUNT', mask: 'null' },
        ],
        COLUMNS,
      ),
    ).not.toThrow();
    expect(() => validateMasks([], COLUMNS)).not.toThrow();
  });

  it.each([
    ['an unknown column', [{ column: 'salary', mask: 'null' }], 'not a column'],
    [
      'a column named twice',
      [
        { column: 'region', mask: 'null' },
        { column: 'REGION', mask: 'hash' },
      ],
      'more than once',
    ],
    ['an unknown mask', [{ column: 'region', mask: 'redact' }], '"null" or "hash"'],
  ])('refuses %s', (_name, masks, rule) => {
    let caught: unknown;
    try {
      validateMasks(masks as never, COLUMNS);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(AgnesError);
    expect((caught as AgnesError).code).toBe('invalid_policy');
    expect((caught as AgnesError).detail).toContain(rule);
  });
});

import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NON_SCALAR_FUNCTIONS } from '../../../src/core/policies/non-scalar-functions.js';
import { ALLOWED_FUNCTIONS } from '../../../src/core/query/function-allowlist.js';
import { SqlParser } from '../../../src/core/query/sql-parser.js';

/**
 * The functions a policy filter may not call, against the DuckDB this package pins: every
 * aggregate, every macro whose body (at any depth) calls one, and the row generator `unnest` with
 * the macros over it. An upgrade that adds one fails here until the list is updated.
 */

interface EngineFunction {
  name: string;
  types: string[];
  macros: string[];
}

function calledNames(tree: unknown, into: Set<string>): void {
  if (Array.isArray(tree)) for (const item of tree) calledNames(item, into);
  else if (tree !== null && typeof tree === 'object') {
    for (const [key, value] of Object.entries(tree)) {
      if (key === 'function_name' && typeof value === 'string') into.add(value.toLowerCase());
      else calledNames(value, into);
    }
  }
}

describe('non-scalar functions of a policy filter (12 §2)', () => {
  let functions: EngineFunction[];
  let parser: SqlParser;

  beforeAll(async () => {
    const instance = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
    });
    const conn = await instance.connect();
    const reader = await conn.runAndReadAll(`
      SELECT lower(function_name) AS name, list(DISTINCT function_type) AS types,
             list(macro_definition) FILTER (WHERE function_type = 'macro') AS macros
      FROM duckdb_functions() GROUP BY 1`);
    functions = reader.getRowObjectsJson().map((row) => ({
      name: String(row.name),
      types: row.types as string[],
      macros: (row.macros as string[] | null) ?? [],
    }));
    conn.closeSync();
    instance.closeSync();
    parser = await SqlParser.open();
  });
  afterAll(() => parser?.close());

  it('lists exactly the allowed names that aggregate or generate rows', async () => {
    const nonScalar = new Set(['unnest']);
    for (const f of functions) if (f.types.includes('aggregate')) nonScalar.add(f.name);
    const calls = new Map<string, Set<string>>();
    for (const f of functions) {
      const names = new Set<string>();
      for (const body of f.macros) {
        const parsed = await parser.serialize(`SELECT ${body}`).catch(() => null);
        if (parsed) calledNames(parsed.statement, names);
      }
      if (names.size > 0) calls.set(f.name, names);
    }
    // A macro over a macro over an aggregate (geometric_mean → geomean → avg) is one too.
    for (let grew = true; grew; ) {
      grew = false;
      for (const [name, called] of calls)
        if (!nonScalar.has(name) && [...called].some((c) => nonScalar.has(c))) {
          nonScalar.add(name);
          grew = true;
        }
    }
    const allowed = (names: Iterable<string>) => [...names].filter((n) => ALLOWED_FUNCTIONS.has(n)).sort();
    expect(allowed(NON_SCALAR_FUNCTIONS)).toEqual(allowed(nonScalar));
    expect(NON_SCALAR_FUNCTIONS.has('sum')).toBe(true);
    expect(NON_SCALAR_FUNCTIONS.has('list_sum')).toBe(false);
  });
});

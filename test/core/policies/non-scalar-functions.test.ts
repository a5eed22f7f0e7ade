import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NON_SCALAR_FUNCTIONS, UNSTABLE_FUNCTIONS } from '../../../src/core/policies/non-scalar-functions.js';
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
  /** Whether some overload's result may change between runs (stability other than CONSISTENT). */
  unstable: boolean;
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
             list(macro_definition) FILTER (WHERE function_type = 'macro') AS macros,
             bool_or(function_type = 'scalar' AND stability <> 'CONSISTENT') AS unstable
      FROM duckdb_functions() GROUP BY 1`);
    functions = reader.getRowObjectsJson().map((row) => ({
      name: String(row.name),
      types: row.types as string[],
      macros: (row.macros as string[] | null) ?? [],
      unstable: row.unstable === true,
    }));
    conn.closeSync();
    instance.closeSync();
    parser = await SqlParser.open();
  });
  afterAll(() => parser?.close());

  /** `seeds` and every macro whose body, at any depth, calls one of them (geometric_mean → geomean → avg). */
  async function withMacrosOver(seeds: Iterable<string>): Promise<Set<string>> {
    const closed = new Set(seeds);
    const calls = new Map<string, Set<string>>();
    for (const f of functions) {
      const names = new Set<string>();
      for (const body of f.macros) {
        const parsed = await parser.serialize(`SELECT ${body}`).catch(() => null);
        if (parsed) calledNames(parsed.statement, names);
      }
      if (names.size > 0) calls.set(f.name, names);
    }
    for (let grew = true; grew; ) {
      grew = false;
      for (const [name, called] of calls)
        if (!closed.has(name) && [...called].some((c) => closed.has(c))) {
          closed.add(name);
          grew = true;
        }
    }
    return closed;
  }
  const allowed = (names: Iterable<string>) => [...names].filter((n) => ALLOWED_FUNCTIONS.has(n)).sort();

  it('lists exactly the allowed names that aggregate or generate rows', async () => {
    const nonScalar = await withMacrosOver([
      'unnest',
      ...functions.filter((f) => f.types.includes('aggregate')).map((f) => f.name),
    ]);
    expect(allowed(NON_SCALAR_FUNCTIONS)).toEqual(allowed(nonScalar));
    expect(NON_SCALAR_FUNCTIONS.has('sum')).toBe(true);
    expect(NON_SCALAR_FUNCTIONS.has('list_sum')).toBe(false);
  });

  it('lists exactly the allowed names whose result may change between runs', async () => {
    const unstable = await withMacrosOver(functions.filter((f) => f.unstable).map((f) => f.name));
    expect(allowed(UNSTABLE_FUNCTIONS)).toEqual(allowed(unstable));
    expect(UNSTABLE_FUNCTIONS.has('now')).toBe(true);
    expect(UNSTABLE_FUNCTIONS.has('date_diff')).toBe(false);
  });
});

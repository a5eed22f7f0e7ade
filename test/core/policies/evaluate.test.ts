import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluatePolicies } from '../../../src/core/policies/evaluate.js';
import type {
  EffectiveView,
  MaskedColumn,
  PolicySubject,
  RowPolicy,
  TableColumn,
} from '../../../src/core/policies/types.js';
import { SqlParser } from '../../../src/core/query/sql-parser.js';

/**
 * The combination rules of 12 §1 and the binding of 12 §2. Every bound filter is run against a
 * real DuckDB table, so "a hostile value is just a value" is shown by the rows it selects.
 */

const LONG = `${'ä'.repeat(199)}'`;
/** Region values of the table: each row's id is its index + 1. */
const REGIONS = [
  'EU',
  'US',
  "o'brien",
  "x') OR TRUE --",
  '{{user.email}}',
  'Zürich ✓',
  'Zu\u0308rich ✓',
  LONG,
  'a\\b',
  '$$x$$',
  null,
  'eu',
];
const idOf = (region: string | null) => REGIONS.indexOf(region) + 1;

const COLUMNS: TableColumn[] = [
  { name: 'id', type: 'INTEGER' },
  { name: 'Region', type: 'VARCHAR' },
  { name: 'owner', type: 'VARCHAR' },
  { name: 'salary', type: 'INTEGER' },
  { name: 'email', type: 'VARCHAR' },
];

const ALICE: PolicySubject = {
  id: 'u-alice',
  email: 'alice@example.com',
  groups: [
    { id: 'g-sales', name: "sales o'team" },
    { id: 'g-eu', name: 'EU' },
  ],
  attributes: { regions: ['EU', 'US'] },
};

let seq = 0;
function policy(fields: Partial<RowPolicy>): RowPolicy {
  seq += 1;
  return {
    id: `p-${String(seq).padStart(3, '0')}`,
    table_id: 'orders',
    name: `policy ${seq}`,
    description: '',
    applies_to: { everyone: true, users: [], groups: [] },
    row_filter: null,
    masked_columns: [],
    enabled: true,
    error: null,
    created_by: null,
    created_at: '2026-01-01T00:00:00Z',
    updated_by: null,
    updated_at: '2026-01-01T00:00:00Z',
    ...fields,
  };
}

let parser: SqlParser;
let instance: DuckDBInstance;
let conn: DuckDBConnection;

beforeAll(async () => {
  parser = await SqlParser.open();
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run(
    'CREATE TABLE t (id INTEGER, "Region" VARCHAR, owner VARCHAR, salary INTEGER, email VARCHAR)',
  );
  const insert = await conn.prepare('INSERT INTO t VALUES ($1, $2, $3, $4, $5)');
  for (const [index, region] of REGIONS.entries()) {
    insert.bindInteger(1, index + 1);
    if (region === null) insert.bindNull(2);
    else insert.bindVarchar(2, region);
    insert.bindVarchar(3, region ?? 'nobody');
    insert.bindInteger(4, 1000 * (index + 1));
    insert.bindVarchar(5, index === 0 ? 'alice@example.com' : `user${index}@example.com`);
    await insert.run();
  }
});

afterAll(() => {
  conn?.closeSync();
  instance?.closeSync();
  parser?.close();
});

/** The ids of the rows a view's bound filter selects, run on the real table. */
async function rowsOf(view: EffectiveView): Promise<number[]> {
  const reader = await conn.runAndReadAll(`SELECT id FROM t WHERE ${view.bound_filter} ORDER BY id`);
  return reader.getRows().map((row) => Number(row[0]));
}

const evaluate = (subject: PolicySubject, policies: RowPolicy[], columns = COLUMNS) =>
  evaluatePolicies(parser, subject, policies, columns);

const withAttributes = (attributes: Record<string, string[]>, base = ALICE): PolicySubject => ({
  ...base,
  attributes,
});

describe('applicable policies (12 §1)', () => {
  it('with none applicable, the view is empty with FALSE', async () => {
    const view = await evaluate(ALICE, [
      policy({ applies_to: { everyone: false, users: ['u-bob'], groups: ['g-other'] }, row_filter: 'TRUE' }),
    ]);
    expect(view).toEqual({ kind: 'empty', policies: [], bound_filter: 'FALSE', masks: [], failures: [] });
    expect(await rowsOf(view)).toEqual([]);
    expect(await evaluate(ALICE, [])).toMatchObject({ kind: 'empty', bound_filter: 'FALSE' });
  });

  it('ignores disabled policies, even one for everyone with all rows', async () => {
    const disabled = policy({ enabled: false });
    expect(await evaluate(ALICE, [disabled])).toMatchObject({ kind: 'empty', bound_filter: 'FALSE' });
    const enabled = policy({ row_filter: "region = 'US'" });
    const view = await evaluate(ALICE, [disabled, enabled]);
    expect(view.policies).toEqual([{ id: enabled.id, name: enabled.name }]);
    expect(await rowsOf(view)).toEqual([idOf('US')]);
  });

  it('applies a policy naming the subject, one of its group ids, or everyone', async () => {
    const byUser = policy({
      applies_to: { everyone: false, users: ['u-alice'], groups: [] },
      row_filter: "region = 'EU'",
    });
    const byGroup = policy({
      applies_to: { everyone: false, users: [], groups: ['g-sales'] },
      row_filter: "region = 'US'",
    });
    // Groups are targeted by id: a group *named* like the target id does not count.
    const byGroupName = policy({
      applies_to: { everyone: false, users: [], groups: ["sales o'team"] },
      row_filter: 'TRUE',
    });
    const otherUser = policy({
      applies_to: { everyone: false, users: ['u-bob'], groups: [] },
      row_filter: 'TRUE',
    });
    const view = await evaluate(ALICE, [byUser, byGroup, byGroupName, otherUser]);
    expect(view.kind).toBe('slice');
    expect(view.policies.map((p) => p.id)).toEqual([byUser.id, byGroup.id]);
    expect(await rowsOf(view)).toEqual([idOf('EU'), idOf('US')]);
  });
});

describe('combination (12 §1)', () => {
  it('ORs the rows of the applicable policies, each filter parenthesised', async () => {
    const a = policy({ row_filter: "region = 'EU' OR region = 'eu'" });
    const b = policy({ row_filter: 'salary > 10000 AND salary < 12000' });
    const view = await evaluate(ALICE, [b, a]);
    expect(view.bound_filter).toBe(
      `(region = 'EU' OR region = 'eu'\n) OR (salary > 10000 AND salary < 12000\n)`,
    );
    expect(await rowsOf(view)).toEqual([idOf('EU'), 11, idOf('eu')]);
  });

  it('treats a NULL filter as all rows', async () => {
    const view = await evaluate(ALICE, [
      policy({ row_filter: "region = 'EU'" }),
      policy({ row_filter: null }),
    ]);
    expect(view.kind).toBe('slice');
    expect(view.bound_filter).toBe('TRUE');
    expect(await rowsOf(view)).toHaveLength(REGIONS.length);
  });

  it('masks a column if any applicable policy masks it, null over hash, sorted, in the table spelling', async () => {
    const masks = (masked_columns: MaskedColumn[]) => policy({ masked_columns });
    const view = await evaluate(ALICE, [
      masks([
        { column: 'salary', mask: 'hash' },
        { column: 'email', mask: 'hash' },
      ]),
      masks([
        { column: 'SALARY', mask: 'null' },
        { column: 'region', mask: 'hash' },
      ]),
      masks([{ column: 'email', mask: 'hash' }]),
      policy({ enabled: false, masked_columns: [{ column: 'owner', mask: 'null' }] }),
    ]);
    expect(view.masks).toEqual([
      { column: 'Region', mask: 'hash' },
      { column: 'email', mask: 'hash' },
      { column: 'salary', mask: 'null' },
    ]);
  });

  it('gives one text for one binding, whatever order the policies come in', async () => {
    const policies = [
      policy({ row_filter: 'list_contains({{user.groups}}, region)' }),
      policy({ row_filter: "region = 'US'" }),
      policy({ row_filter: "region = 'US'" }),
    ];
    const forward = await evaluate(ALICE, policies);
    const backward = await evaluate(
      { ...ALICE, groups: [...ALICE.groups].reverse() },
      [...policies].reverse(),
    );
    expect(backward.bound_filter).toBe(forward.bound_filter);
    expect(forward.bound_filter?.match(/region = 'US'/g)).toHaveLength(1);
  });
});

describe('binding (12 §2)', () => {
  it('binds scalars as VARCHAR literals and lists as VARCHAR[] literals written by the engine', async () => {
    const view = await evaluate(withAttributes({ regions: ["o'brien", 'US'] }), [
      policy({ row_filter: 'list_contains({{user.attr.regions}}, region) OR email = {{user.email}}' }),
    ]);
    expect(view.bound_filter).toBe(
      "(list_contains( CAST(main.list_value('o''brien', 'US') AS VARCHAR[]) , region) OR email =  CAST('alice@example.com' AS VARCHAR) \n)",
    );
    expect(await rowsOf(view)).toEqual([idOf('EU'), idOf('US'), idOf("o'brien")]);
  });

  it.each(REGIONS.filter((r): r is string => r !== null))(
    'an attribute value %j selects exactly its row',
    async (value) => {
      const view = await evaluate(withAttributes({ regions: [value] }), [
        policy({ row_filter: 'list_contains({{user.attr.regions}}, region)' }),
      ]);
      expect(view.kind).toBe('slice');
      expect(await rowsOf(view)).toEqual([idOf(value)]);
    },
  );

  it('binds each subject with its own values, however often the same filter is bound', async () => {
    const policies = [policy({ row_filter: 'list_contains({{user.attr.regions}}, region)' })];
    for (let round = 0; round < 3; round++) {
      for (const region of ['EU', "o'brien", 'US']) {
        const view = await evaluate(withAttributes({ regions: [region] }), policies);
        expect(await rowsOf(view)).toEqual([idOf(region)]);
      }
      // The same binding against columns without `region` no longer binds.
      const gone = await evaluate(withAttributes({ regions: ['EU'] }), policies, COLUMNS.slice(2));
      expect(gone.kind).toBe('empty');
    }
  });

  it('binds a placeholder the parser copies (the operand of CASE … WHEN … WHEN)', async () => {
    const view = await evaluate({ ...ALICE, email: "o'brien" }, [
      policy({
        row_filter: "CASE {{user.email}} WHEN region THEN TRUE WHEN owner || 'x' THEN TRUE ELSE FALSE END",
      }),
    ]);
    expect(view.kind).toBe('slice');
    expect(await rowsOf(view)).toEqual([idOf("o'brien")]);
  });

  it('binds hostile scalar values as values', async () => {
    for (const email of ["x') OR TRUE --", '{{user.email}}', "o'brien", LONG, 'a\\b', '$$x$$']) {
      const view = await evaluate({ ...ALICE, email }, [policy({ row_filter: 'region = {{user.email}}' })]);
      expect(await rowsOf(view), email).toEqual([idOf(email)]);
    }
  });

  it('binds many long hostile values in one list', async () => {
    const values = [
      ...REGIONS.filter((r): r is string => r !== null),
      ...Array.from({ length: 30 }, (_, i) => `${i}' OR '1'='1`),
    ];
    const view = await evaluate(withAttributes({ regions: values }), [
      policy({ row_filter: 'NOT list_contains({{user.attr.regions}}, region)' }),
    ]);
    expect(await rowsOf(view)).toEqual([]);
  });

  it('binds {{user.groups}} to the group names and {{user.id}} to the id', async () => {
    const subject: PolicySubject = {
      ...ALICE,
      groups: [
        { id: 'g1', name: "o'brien" },
        { id: 'g2', name: 'Zürich ✓' },
      ],
    };
    const view = await evaluate(subject, [
      policy({ row_filter: "list_contains({{user.groups}}, region) OR {{user.id}} = 'u-other'" }),
    ]);
    expect(await rowsOf(view)).toEqual([idOf("o'brien"), idOf('Zürich ✓')]);
    const byId = await evaluate(subject, [
      policy({ row_filter: "{{user.id}} = 'u-alice' AND region = 'US'" }),
    ]);
    expect(await rowsOf(byId)).toEqual([idOf('US')]);
  });

  it('binds a missing attribute as the empty list: a slice with no rows', async () => {
    const view = await evaluate(withAttributes({}), [
      policy({ row_filter: 'list_contains({{user.attr.regions}}, region)' }),
    ]);
    expect(view.kind).toBe('slice');
    expect(view.bound_filter).toContain('CAST(main.list_value() AS VARCHAR[])');
    expect(await rowsOf(view)).toEqual([]);
  });

  it('never reads an attribute from the prototype chain', async () => {
    const view = await evaluate(withAttributes({}), [
      policy({ row_filter: 'len({{user.attr.constructor}}) = 0 AND region = {{user.email}}' }),
    ]);
    expect(view.kind).toBe('slice');
  });
});

describe('failing closed (12 §2)', () => {
  it('a policy whose column is gone empties the view, with a reason that names the column', async () => {
    const broken = policy({ row_filter: "region = 'EU' AND team = 'sk_live_SECRET'" });
    const fine = policy({ row_filter: "region = 'US'" });
    const columns = [...COLUMNS, { name: 'team', type: 'VARCHAR' }];
    expect((await evaluate(ALICE, [broken, fine], columns)).kind).toBe('slice');
    const view = await evaluate(ALICE, [broken, fine]);
    expect(view).toEqual({
      kind: 'empty',
      policies: [],
      bound_filter: 'FALSE',
      masks: [],
      failures: [{ policy_id: broken.id, reason: '"team" is not a column of the table' }],
    });
    expect(await rowsOf(view)).toEqual([]);
  });

  it('one failed policy empties the view even when another would show rows: its masks cannot be dropped', async () => {
    // The failed policy shows every row with salaries hidden; without it, the other policy's rows
    // would show salaries that the intended view hides.
    const allRowsNoSalary = policy({
      row_filter: 'dropped_flag IS NULL',
      masked_columns: [{ column: 'salary', mask: 'null' }],
    });
    const someRows = policy({ row_filter: "region = 'EU'" });
    const view = await evaluate(ALICE, [allRowsNoSalary, someRows]);
    expect(view.kind).toBe('empty');
    expect(view.failures.map((f) => f.policy_id)).toEqual([allRowsNoSalary.id]);
  });

  it('a masked column that is gone fails the policy too', async () => {
    const view = await evaluate(ALICE, [policy({ masked_columns: [{ column: 'ssn', mask: 'hash' }] })]);
    expect(view.kind).toBe('empty');
    expect(view.failures[0]?.reason).toBe('masked column "ssn" is not a column of the table');
  });

  it('a stored filter that is no longer valid fails without echoing its text', async () => {
    const view = await evaluate(ALICE, [
      policy({ row_filter: "region = 'sk_live_SECRET' AND sum(salary) > 1" }),
    ]);
    expect(view.kind).toBe('empty');
    expect(view.failures[0]?.reason).not.toContain('sk_live');
    expect(view.failures[0]?.reason).toContain('aggregate');
  });

  it('a value the engine cannot write exactly fails the policy instead of binding something else', async () => {
    // DuckDB's literal stops at a NUL, so the bound tree differs from the template's.
    const nul = await evaluate({ ...ALICE, email: 'EU\u0000 OR TRUE' }, [
      policy({ row_filter: 'region = {{user.email}}' }),
    ]);
    expect(nul.kind).toBe('empty');
    expect(nul.failures[0]?.reason).toBe('the bound filter does not have the shape of its template');
    const surrogate = await evaluate({ ...ALICE, email: 'EU\ud800' }, [
      policy({ row_filter: 'region = {{user.email}}' }),
    ]);
    expect(surrogate.kind).toBe('empty');
    expect(surrogate.failures[0]?.reason).toBe('a placeholder value could not be bound');
  });

  it('an engine that is shutting down is an error of the request, not a failure of the policy', async () => {
    const closed = await SqlParser.open();
    closed.close();
    const error = await evaluatePolicies(
      closed,
      ALICE,
      [policy({ row_filter: "region = 'EU'" })],
      COLUMNS,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'unavailable' });
  });
});

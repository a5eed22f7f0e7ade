import { describe, expect, it } from 'vitest';
import { daJson, runDa, useAdminCli } from '../support/cli.js';

/** `da admin policies …` and `da admin users attributes …` against the real server (06 §5.3, 12 §5). */
describe('da admin policies and attributes', { timeout: 180_000 }, () => {
  const cli = useAdminCli();
  const da = (...args: string[]) => runDa(args, { env: cli.admin.env });
  const json = (...args: string[]) => daJson(cli.admin, ...args);

  it('sets and gets a user’s attributes by email, values kept as given, the derived ones beside them', async () => {
    const email = cli.fixture.analyst.email;
    const set = await json('admin', 'users', 'attributes', 'set', email, "regions=EU,o'brien,EU", 'teams=');
    expect(set.attributes).toEqual({ regions: ['EU', "o'brien"], teams: [] });
    const got = await json('admin', 'users', 'attributes', 'get', cli.fixture.analyst.id);
    expect(got).toEqual({
      attributes: { regions: ['EU', "o'brien"], teams: [] },
      derived: { email, user_id: cli.fixture.analyst.id, groups: [] },
    });
    const text = await da('admin', 'users', 'attributes', 'get', email);
    expect(text.stdout).toContain("regions = EU, o'brien");
    expect(text.stdout).toContain(`email = ${email}`);

    const derived = await da('admin', 'users', 'attributes', 'set', email, 'user_id=x', '--json');
    expect(derived.code).toBe(1);
    expect(JSON.parse(derived.stdout).error).toMatchObject({ code: 'validation_failed', status: 422 });
    const malformed = await da('admin', 'users', 'attributes', 'set', email, 'no-equals-sign');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toBe('error: expected KEY=VALUE[,VALUE…], got no-equals-sign\n');

    expect((await json('admin', 'users', 'attributes', 'set', email)).attributes).toEqual({});
  });

  it('adds, lists, updates and removes a policy; a hostile filter is refused with the rule, not the text', async () => {
    const email = cli.fixture.analyst.email;
    const hostile = await da(
      'admin',
      'policies',
      'add',
      'orders',
      '--name',
      'Sneaky',
      '--everyone',
      '--filter',
      'id IN (SELECT id FROM salaries)',
    );
    expect(hostile.code).toBe(1);
    expect(hostile.stderr).toMatch(/^error: .*subquer/);
    expect(hostile.stderr).not.toContain('salaries');
    expect((await da('admin', 'policies', 'add', 'orders', '--name', 'Nobody')).code).toBe(2);

    const added = await json(
      'admin',
      'policies',
      'add',
      'orders',
      '--name',
      'Low ids',
      '--description',
      'first ten',
      '--filter',
      'id < 10',
      '--user',
      email,
      '--mask',
      'label=hash',
      '--mask',
      'amount:null',
    );
    expect(added).toMatchObject({
      table_id: 'orders',
      name: 'Low ids',
      description: 'first ten',
      row_filter: 'id < 10',
      applies_to: { everyone: false, users: [cli.fixture.analyst.id], groups: [] },
      masked_columns: [
        { column: 'label', mask: 'hash' },
        { column: 'amount', mask: 'null' },
      ],
      enabled: true,
      error: null,
    });
    const duplicate = await da('admin', 'policies', 'add', 'orders', '--name', 'low IDS', '--everyone');
    expect(duplicate.code).toBe(1);

    const listed = await json('admin', 'policies', 'list', 'orders');
    expect(listed.policies.map((p: { id: string }) => p.id)).toEqual([added.id]);
    const text = await da('admin', 'policies', 'list', 'orders');
    expect(text.stdout).toContain(`Low ids (enabled, id ${added.id})`);
    expect(text.stdout).toContain(`applies to  ${email}`);
    expect(text.stdout).toContain('masks       label=hash, amount=null');

    const updated = await json(
      'admin',
      'policies',
      'update',
      added.id,
      '--filter',
      '',
      '--everyone',
      '--clear-masks',
      '--disabled',
    );
    expect(updated).toMatchObject({
      name: 'Low ids',
      row_filter: null,
      applies_to: { everyone: true, users: [], groups: [] },
      masked_columns: [],
      enabled: false,
    });
    expect((await da('admin', 'policies', 'update', added.id)).code).toBe(2);
    expect((await da('admin', 'policies', 'update', added.id, '--mask', 'label=blur')).code).toBe(2);
    const unknown = await da('admin', 'policies', 'update', added.id, '--mask', 'nope=hash', '--json');
    expect(JSON.parse(unknown.stdout).error).toMatchObject({ code: 'invalid_policy', status: 422 });

    expect(await json('admin', 'policies', 'rm', added.id)).toEqual({ deleted: added.id });
    expect((await da('admin', 'policies', 'rm', added.id)).code).toBe(5);
    expect((await da('admin', 'policies', 'list', 'orders')).stdout).toBe(
      'No policies: orders is not bound.\n',
    );
    expect((await da('admin', 'policies', 'list', 'no_such_table')).code).toBe(5);
  });

  it('da catalog lists the readable tables, unmarked while no policy binds them', async () => {
    const listed = await runDa(['catalog', '--json'], { env: cli.analyst.env });
    expect(listed.code).toBe(0);
    const doc = JSON.parse(listed.stdout);
    const ids = doc.tables.map((t: { id: string }) => t.id);
    expect(ids).toEqual(expect.arrayContaining(['orders', 'holidays', 'events']));
    expect(ids).not.toContain('salaries');
    expect(doc.tables.find((t: { id: string }) => t.id === 'orders')).toMatchObject({
      name: 'Orders',
      policy: null,
    });
    const text = await runDa(['catalog', '--search', 'customer'], { env: cli.analyst.env });
    expect(text.stdout.split('\n')[0]).toMatch(/^id +name +dataset +mode +rows +updated +policy$/);
    expect(text.stdout).toContain('Orders');
    expect(text.stdout).not.toContain('holidays');
    const status = JSON.parse((await runDa(['status', '--json'], { env: cli.analyst.env })).stdout);
    expect(status.local.filtered).toEqual([]);
  });

  it('da catalog and da status mark a table a policy filters for the reader', async () => {
    const policy = await json(
      'admin',
      'policies',
      'add',
      'orders',
      '--name',
      'First five',
      '--filter',
      'id < 5',
      '--user',
      cli.fixture.analyst.email,
      '--mask',
      'label=hash',
    );
    try {
      const doc = JSON.parse((await runDa(['catalog', '--json'], { env: cli.analyst.env })).stdout);
      const orders = doc.tables.find((t: { id: string }) => t.id === 'orders');
      expect(orders).toMatchObject({
        policy: { names: ['First five'], masked_columns: [{ column: 'label', mask: 'hash' }] },
      });
      expect(doc.tables.find((t: { id: string }) => t.id === 'holidays').policy).toBeNull();
      const text = await runDa(['catalog'], { env: cli.analyst.env });
      expect(text.stdout.split('\n').find((line) => line.startsWith('orders'))).toMatch(
        /filtered: First five; masked label$/,
      );
      const status = JSON.parse((await runDa(['status', '--json'], { env: cli.analyst.env })).stdout);
      expect(status.local.filtered).toEqual([
        { table: 'orders', names: ['First five'], masked_columns: [{ column: 'label', mask: 'hash' }] },
      ]);
      const statusText = await runDa(['status'], { env: cli.analyst.env });
      expect(statusText.stdout).toContain('Filtered    orders (policy First five; masked label=hash)');
      // Admins are never bound.
      expect(JSON.parse((await da('status', '--json')).stdout).local.filtered).toEqual([]);
    } finally {
      await json('admin', 'policies', 'rm', policy.id);
    }
  });

  it('previews what a user would see with the saved policies and a draft from the flags', async () => {
    const email = cli.fixture.analyst.email;
    const saved = await json(
      'admin',
      'policies',
      'add',
      'orders',
      '--name',
      'Even',
      '--everyone',
      '--filter',
      'id % 2 = 0',
    );
    try {
      const plain = await json('admin', 'policies', 'preview', 'orders', '--user', email);
      expect(plain).toMatchObject({ kind: 'slice', policies: [{ id: saved.id, name: 'Even' }], rows: 25 });
      expect(plain.sample.rows).toHaveLength(20);

      // A draft of another name joins the saved policy: rows combine permissively, masks restrictively.
      const draft = await json(
        'admin',
        'policies',
        'preview',
        'orders',
        '--user',
        email,
        '--filter',
        'id < 5',
        '--mask',
        'label=null',
      );
      expect(draft).toMatchObject({
        kind: 'slice',
        rows: 27,
        masked_columns: [{ column: 'label', mask: 'null' }],
      });
      expect(draft.policies.map((p: { name: string }) => p.name).sort()).toEqual(['Even', 'draft']);
      const labels = draft.sample.columns.indexOf('label');
      expect(draft.sample.rows.every((row: unknown[]) => row[labels] === null)).toBe(true);

      // A draft named like the saved policy replaces it; nothing is stored either way.
      const replaced = await json(
        'admin',
        'policies',
        'preview',
        'orders',
        '--user',
        email,
        '--name',
        'Even',
        '--everyone',
        '--filter',
        'id < 3',
      );
      expect(replaced.rows).toBe(3);
      const text = await da('admin', 'policies', 'preview', 'orders', '--user', email, '--disabled');
      expect(text.stdout).toMatch(/^.+ sees 25 rows of orders \(slice: Even\)\n/);
      expect((await json('admin', 'policies', 'list', 'orders')).policies).toHaveLength(1);
      expect((await da('admin', 'policies', 'preview', 'orders')).code).toBe(2);
    } finally {
      await json('admin', 'policies', 'rm', saved.id);
    }
  });

  it('refuses an analyst with exit 4', async () => {
    for (const args of [
      ['admin', 'policies', 'list', 'orders'],
      ['admin', 'users', 'attributes', 'get', cli.fixture.analyst.id],
    ]) {
      const result = await runDa(args, { env: cli.analyst.env });
      expect(result.code, args.join(' ')).toBe(4);
    }
  });
});

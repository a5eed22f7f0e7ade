import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RowPolicyView } from '../../../src/contract/index.js';
import {
  crmFile,
  everyone,
  parquetBytesRows,
  parquetRows,
  type policyAdmin,
  policyServer,
  REGION_FILTER,
  reading,
  SALT,
} from '../../core/policies/policy-fixture.js';
import { makeExtract } from '../../support/extracts.js';
import { httpClient, tool } from '../../support/mcp.js';
import { call, createUser, type TestServer, type TestUser } from '../../support/server.js';
import { plainUser, sessionToken } from './fixtures.js';

/**
 * Row and column policies end to end (12 §7): policies, attributes, grants and memberships set
 * through the admin API, and every read path of a bound reader checked against figures computed
 * without Agnes (DuckDB over the source Parquet). No test seam: the runtime's own
 * `loadEffectiveViews` decides.
 */

describe('a region policy driven by an attribute, on every read path (12 §7)', () => {
  let server: TestServer;
  let admin: TestUser;
  let api: ReturnType<typeof policyAdmin>;
  let reader: TestUser;
  let regionPolicy: RowPolicyView;
  let read: ReturnType<typeof reading>;
  /** Independent of Agnes: DuckDB over the crm source's own files. */
  const truth = async (sql: string) =>
    Object.values(
      (
        await parquetRows(
          { sales: crmFile(server.dataDir, 'sales'), customers: crmFile(server.dataDir, 'customers') },
          sql,
        )
      )[0]!,
    )[0];

  beforeAll(async () => {
    ({ server, admin, api } = await policyServer());
    read = reading(server);
    reader = await createUser(server.ctx, 'analyst');
    await api.grant(reader.id, 'crm.*');
    regionPolicy = await api.addPolicy('sales', {
      name: 'Regions',
      applies_to: everyone,
      row_filter: REGION_FILTER,
    });
    await api.setAttributes(reader.id, { regions: ['EU'] });
  });
  afterAll(async () => server.close());

  it('answers every attempt at more rows with the EU slice only', async () => {
    const euCount = await truth("SELECT count(*) FROM sales WHERE region = 'EU'");
    const euSum = await truth("SELECT sum(amount)::BIGINT FROM sales WHERE region = 'EU'");
    expect([euCount, euSum]).toEqual([10, 1800]);
    expect(await truth('SELECT count(*) FROM sales')).toBe(40);

    expect(await read.regions(reader)).toEqual(['EU']);
    const attempts: [string, unknown][] = [
      ['SELECT count(*) FROM sales', euCount],
      ['SELECT sum(amount) FROM sales', euSum],
      ["SELECT count(*) FROM sales WHERE region = 'US' OR TRUE", euCount],
      ["SELECT count(*) FROM sales WHERE region <> 'EU' OR 1 = 1", euCount],
      ['SELECT count(*) FROM (SELECT * FROM sales UNION SELECT * FROM sales)', euCount],
      [
        "SELECT string_agg(DISTINCT region, ',') FROM (SELECT * FROM sales UNION ALL SELECT * FROM sales)",
        'EU',
      ],
      ['SELECT max(n) FROM (SELECT count(*) OVER () AS n FROM sales)', euCount],
      ['SELECT max(s) FROM (SELECT sum(amount) OVER (ORDER BY id) AS s FROM sales)', euSum],
      [
        "SELECT count(*) FROM sales s WHERE EXISTS (SELECT 1 FROM sales t WHERE t.id = s.id AND t.region <> 'EU')",
        0,
      ],
      ['SELECT max((SELECT count(*) FROM sales t WHERE t.region <> s.region)) FROM sales s', 0],
      ['WITH sales AS (SELECT * FROM sales) SELECT count(*) FROM sales', euCount],
      ["WITH sales AS (SELECT * FROM sales WHERE region = 'US') SELECT count(*) FROM sales", 0],
      ["SELECT count(*) FROM (SELECT id FROM sales INTERSECT SELECT id FROM sales WHERE region <> 'EU')", 0],
      ["SELECT count(*) FROM (SELECT id FROM sales EXCEPT SELECT id FROM sales WHERE region = 'EU')", 0],
      ['SELECT count(*) FROM sales JOIN customers USING (customer)', euCount],
    ];
    for (const [sql, expected] of attempts)
      expect([sql, await read.scalar(reader, sql)]).toEqual([sql, expected]);

    const file = crmFile(server.dataDir, 'sales');
    for (const sql of [`SELECT count(*) FROM read_parquet('${file}')`, `SELECT count(*) FROM '${file}'`]) {
      const refused = await call(server, 'POST', '/api/query', { auth: reader.auth, body: { sql } });
      expect([sql, refused.status]).toEqual([sql, 400]);
      expect(refused.text).not.toContain(server.dataDir);
    }
    // The other tables of the source are not bound; admins are never bound.
    expect(await read.scalar(reader, 'SELECT count(*) FROM plain')).toBe(3);
    expect(await read.scalar(admin, 'SELECT count(*) FROM sales')).toBe(40);
  });

  it('exports only EU rows as CSV and as Parquet', async () => {
    const csv = await call(server, 'POST', '/api/query/export', {
      auth: reader.auth,
      body: { sql: 'SELECT * FROM sales WHERE TRUE OR region IS NULL', format: 'csv' },
    });
    expect(csv.status).toBe(200);
    const lines = csv.text.trim().split(/\r?\n/);
    expect(lines[0]).toBe('id,region,customer,amount');
    expect(lines.slice(1).map((line) => line.split(',')[1])).toEqual(Array(10).fill('EU'));

    const response = await fetch(`${server.url}/api/query/export`, {
      method: 'POST',
      headers: { authorization: reader.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT * FROM sales', format: 'parquet' }),
    });
    expect(response.status).toBe(200);
    const rows = await parquetBytesRows(
      Buffer.from(await response.arrayBuffer()),
      'SELECT region, count(*) AS n, sum(amount)::BIGINT AS total FROM served GROUP BY region',
    );
    expect(rows).toEqual([{ region: 'EU', n: 10, total: 1800 }]);
  });

  it('previews and profiles the slice: no figure from hidden rows', async () => {
    const preview = await call(server, 'GET', '/api/catalog/tables/sales/preview?limit=100', {
      auth: reader.auth,
    });
    expect(preview.status).toBe(200);
    expect(preview.body.row_count).toBe(10);
    const regionAt = preview.body.columns.indexOf('region');
    expect(new Set(preview.body.rows.map((row: unknown[]) => row[regionAt]))).toEqual(new Set(['EU']));

    const profile = await call(server, 'GET', '/api/catalog/profile/sales', { auth: reader.auth });
    expect(profile.status, profile.text).toBe(200);
    expect(profile.body.row_count).toBe(10);
    const column = (name: string) =>
      profile.body.columns.find((c: { name: string }) => c.name === name) as Record<string, unknown>;
    // The largest EU id is 36 and the largest EU amount 360; the table's are 39 and 390.
    expect(column('id')).toMatchObject({ min: 0, max: 36 });
    expect(column('amount')).toMatchObject({ max: 360 });
    expect((column('region').top_values as { value: string }[]).map((v) => v.value)).toEqual(['EU']);
    for (const hidden of ['US', 'APAC', 'LATAM']) expect(profile.text).not.toContain(`"${hidden}"`);
  });

  it('lists and serves the slice in the manifest and downloads: only EU rows, not the raw hash', async () => {
    const raw = (await server.ctx.repos.syncState.getState('sales'))!;
    const entry = await read.manifestEntry(reader, 'sales');
    expect(entry).toMatchObject({
      rows: 10,
      layout: 'single',
      policy: { names: ['Regions'], masked_columns: [] },
    });
    expect(entry.hash).not.toBe(raw.hash);
    expect((await read.manifestEntry(admin, 'sales')).hash).toBe(raw.hash);

    const bytes = await read.download(reader, 'sales');
    const rows = await parquetBytesRows(bytes, 'SELECT region, count(*) AS n FROM served GROUP BY region');
    expect(rows).toEqual([{ region: 'EU', n: 10 }]);
  });

  it("runs the reader's SQL alert over their slice", async () => {
    const created = await call(server, 'POST', '/api/alerts', {
      auth: reader.auth,
      body: {
        name: 'All sales',
        sql: 'SELECT * FROM sales',
        condition: { type: 'row_count', op: '>', threshold: 0 },
        message_template: '{{row_count}} rows',
        schedule: 'every 10m',
        channels: ['websocket'],
      },
    });
    expect(created.status, created.text).toBe(201);
    const tested = await call(server, 'POST', `/api/alerts/${created.body.id}/test`, {
      auth: reader.auth,
      body: {},
    });
    expect(tested.body).toMatchObject({ fired: true, row_count: 10, message: '10 rows' });
    const run = await call(server, 'POST', `/api/alerts/${created.body.id}/run`, { auth: reader.auth });
    expect(run.body).toMatchObject({ fired: true, status: 'ok' });
    const notifications = (await server.ctx.repos.notifications.listForUser(reader.id)).items;
    expect(notifications.find((n) => n.id === run.body.notification_id)?.message).toBe('10 rows');
  });

  it("binds the MCP query tool to the reader's slice", async () => {
    const { client } = await httpClient(server.url, reader.auth);
    try {
      const answer = await tool(client, 'query', {
        sql: "SELECT count(*) AS n, string_agg(DISTINCT region, ',') AS r FROM sales WHERE TRUE OR FALSE",
      });
      expect(answer.isError).toBe(false);
      expect(answer.structured).toMatchObject({ rows: [[10, 'EU']] });
    } finally {
      await client.close();
    }
  });

  it("audits a bound reader's query with its policies and an admin's with policy_bypass", async () => {
    await read.query(reader, 'SELECT count(*) AS e2e_reader FROM sales');
    await read.query(admin, 'SELECT count(*) AS e2e_admin FROM sales');
    const entries = await server.ctx.repos.audit.list({ action: 'query.execute' }, { page: 1, per_page: 50 });
    const paramsOf = (marker: string) =>
      entries.items.find((e) => JSON.stringify(e.params).includes(marker))?.params;
    expect(paramsOf('e2e_reader')).toMatchObject({ policies: [regionPolicy.id] });
    expect(paramsOf('e2e_admin')).toMatchObject({ policy_bypass: 'admin' });
    expect(paramsOf('e2e_admin')).not.toHaveProperty('policies');
  });

  it('audits the preview, export and download of a bound reader with its policies; shows the slice in the catalog', async () => {
    await call(server, 'GET', '/api/catalog/tables/sales/preview', { auth: reader.auth });
    await call(server, 'POST', '/api/query/export', {
      auth: reader.auth,
      body: { sql: 'SELECT * FROM sales', format: 'csv' },
    });
    await read.download(reader, 'sales');
    for (const action of ['catalog.preview', 'query.export', 'data.download']) {
      const latest = await server.ctx.repos.audit.list(
        { action, user_id: reader.id },
        { page: 1, per_page: 1 },
      );
      expect([action, latest.items[0]?.params]).toEqual([
        action,
        expect.objectContaining({ policies: [regionPolicy.id] }),
      ]);
    }
    const detail = await call(server, 'GET', '/api/catalog/tables/sales', { auth: reader.auth });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({ rows: 10, sync: { rows: 10 } });
    expect(detail.body.columns.map((c: { name: string }) => c.name)).toEqual([
      'id',
      'region',
      'customer',
      'amount',
    ]);
    expect((await call(server, 'GET', '/api/catalog/tables/sales', { auth: admin.auth })).body.rows).toBe(40);
  });

  it('binds hostile attribute values as values; a missing attribute is the empty list', async () => {
    const hostile = await createUser(server.ctx, 'analyst');
    await api.grant(hostile.id, 'crm.*');
    await api.addPolicy('customers', {
      name: 'Named',
      applies_to: everyone,
      row_filter: 'list_contains({{user.attr.names}}, name)',
    });
    await api.setAttributes(hostile.id, { names: ["x') OR TRUE --", "o'brien", "' OR ''='", 'Name 3'] });
    expect((await read.query(hostile, 'SELECT name FROM customers')).rows).toEqual([['Name 3']]);
    // No `regions` attribute: the region policy binds to the empty list, so no rows.
    expect(await read.scalar(hostile, 'SELECT count(*) FROM sales')).toBe(0);
    await api.setAttributes(hostile.id, { names: ["x') OR TRUE --"], regions: ["EU') OR TRUE OR ('"] });
    expect(await read.scalar(hostile, 'SELECT count(*) FROM customers')).toBe(0);
    expect(await read.scalar(hostile, 'SELECT count(*) FROM sales')).toBe(0);
  });

  it('builds one slice for 20 concurrent first requests by 20 readers with one binding', async () => {
    const readers = await Promise.all(Array.from({ length: 20 }, () => plainUser(server.ctx)));
    for (const user of readers) {
      await api.grant(user.id, 'crm.*');
      await api.setAttributes(user.id, { regions: ['LATAM'] });
    }
    const tokens = await Promise.all(
      readers.map(async (user) => `Bearer ${await sessionToken(server.ctx, user.id)}`),
    );
    const filesBefore = await read.sliceFiles('sales');
    // Every readable bound table of a sandbox has its slice: count those of `sales` only.
    const salesSlices = async () =>
      (await server.ctx.repos.policySlices.list()).filter((s) => s.table_id === 'sales').length;
    const rowsBefore = await salesSlices();
    const answers = await Promise.all(
      tokens.map((auth) =>
        call(server, 'POST', '/api/query', {
          auth,
          body: { sql: 'SELECT region, count(*) FROM sales GROUP BY region' },
        }),
      ),
    );
    expect(answers.map((a) => [a.status, a.body.rows])).toEqual(Array(20).fill([200, [['LATAM', 10]]]));
    expect((await read.sliceFiles('sales')).length - filesBefore.length).toBe(1);
    expect((await salesSlices()) - rowsBefore).toBe(1);
  });
});

describe('masks and the combination of policies (12 §1)', () => {
  let server: TestServer;
  let api: ReturnType<typeof policyAdmin>;
  let analyst: TestUser;
  let outsider: TestUser;
  let read: ReturnType<typeof reading>;
  const digest = (value: string) =>
    parquetRows({}, `SELECT sha256(${`'${SALT}:${value}'`}) AS h`).then((rows) => rows[0]!.h);

  beforeAll(async () => {
    ({ server, api } = await policyServer());
    read = reading(server);
    [analyst, outsider] = await Promise.all([
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'analyst'),
    ]);
    for (const user of [analyst, outsider]) await api.grant(user.id, 'crm.*');
  });
  afterAll(async () => server.close());

  it('combines rows permissively and masks restrictively across a group policy and a user policy', async () => {
    const group = await api.createGroup('Europe desk');
    await api.addMember(group, analyst.id);
    const byGroup = await api.addPolicy('sales', {
      name: 'Europe desk',
      applies_to: { everyone: false, users: [], groups: [group] },
      row_filter: "region = 'EU'",
      masked_columns: [{ column: 'amount', mask: 'null' }],
    });
    const byUser = await api.addPolicy('sales', {
      name: 'US accounts',
      applies_to: { everyone: false, users: [analyst.id], groups: [] },
      row_filter: "region = 'US'",
      masked_columns: [{ column: 'customer', mask: 'hash' }],
    });
    await api.addPolicy('customers', {
      name: 'Hashed keys',
      applies_to: everyone,
      masked_columns: [{ column: 'customer', mask: 'hash' }],
    });

    const answer = await read.query(
      analyst,
      'SELECT id, region, customer, amount FROM sales ORDER BY id LIMIT 2',
    );
    // Rows 0 (EU) and 1 (US); masked columns keep their place, null keeps its type, hash is VARCHAR.
    expect(answer.column_types).toEqual(['BIGINT', 'VARCHAR', 'VARCHAR', 'INTEGER']);
    expect(answer.rows).toEqual([
      [0, 'EU', await digest('c0'), null],
      [1, 'US', await digest('c1'), null],
    ]);
    expect(await read.regions(analyst)).toEqual(['EU', 'US']);
    expect(await read.scalar(analyst, 'SELECT count(amount) FROM sales')).toBe(0);
    // The hashed key joins the two bound tables; the clear value matches nothing.
    expect(await read.scalar(analyst, 'SELECT count(*) FROM sales JOIN customers USING (customer)')).toBe(20);
    expect(await read.scalar(analyst, "SELECT count(*) FROM customers WHERE customer = 'c1'")).toBe(0);

    // Masks reach the manifest and the file.
    const entry = await read.manifestEntry(analyst, 'sales');
    expect(entry.policy).toEqual({
      names: expect.arrayContaining(['Europe desk', 'US accounts']),
      masked_columns: [
        { column: 'amount', mask: 'null' },
        { column: 'customer', mask: 'hash' },
      ],
    });
    const file = await parquetBytesRows(
      await read.download(analyst, 'sales'),
      "SELECT count(*) AS n, count(amount) AS amounts, count(*) FILTER (WHERE customer LIKE 'c%') AS clear FROM served",
    );
    expect(file).toEqual([{ n: 20, amounts: 0, clear: 0 }]);

    // `null` wins over `hash` on one column.
    await api.updatePolicy(byGroup.id, { masked_columns: [{ column: 'customer', mask: 'null' }] });
    expect(
      (await read.query(analyst, 'SELECT customer, amount FROM sales ORDER BY id LIMIT 1')).rows,
    ).toEqual([[null, 0]]);

    // No applicable policy: zero rows with the full schema.
    const none = await read.query(outsider, 'SELECT * FROM sales');
    expect(none.rows).toEqual([]);
    expect(none.columns).toEqual(['id', 'region', 'customer', 'amount']);
    expect(await read.manifestEntry(outsider, 'sales')).toMatchObject({ rows: 0 });

    // Every policy disabled: the table stays bound and shows nobody any row.
    for (const policy of [byGroup, byUser]) await api.updatePolicy(policy.id, { enabled: false });
    expect(await read.scalar(analyst, 'SELECT count(*) FROM sales')).toBe(0);
    const entryDisabled = await read.manifestEntry(analyst, 'sales');
    expect(entryDisabled).toMatchObject({ rows: 0, policy: { names: [] } });
    const schemaOnly = await parquetBytesRows(
      await read.download(analyst, 'sales'),
      "SELECT string_agg(column_name, ',') AS columns FROM (DESCRIBE served)",
    );
    expect(schemaOnly).toEqual([{ columns: 'id,region,customer,amount' }]);
  });
});

describe('a change takes effect on the next request (12 §7)', () => {
  let server: TestServer;
  let admin: TestUser;
  let api: ReturnType<typeof policyAdmin>;
  let reader: TestUser;
  let read: ReturnType<typeof reading>;

  beforeAll(async () => {
    ({ server, admin, api } = await policyServer({ config: { policies: { slice_ttl_days: 0 } } }));
    read = reading(server);
    reader = await createUser(server.ctx, 'analyst');
    await api.grant(reader.id, 'crm.*');
  });
  afterAll(async () => server.close());

  it('follows an attribute change in queries, manifest and download; maintenance deletes the old slice', async () => {
    const policy = await api.addPolicy('sales', {
      name: 'Regions',
      applies_to: everyone,
      row_filter: REGION_FILTER,
    });
    await api.setAttributes(reader.id, { regions: ['EU'] });
    expect(await read.regions(reader)).toEqual(['EU']);
    const eu = await read.manifestEntry(reader, 'sales');
    const [euSlice] = await read.sliceFiles('sales');
    expect(euSlice).toBe(`${(await server.ctx.repos.policySlices.list())[0]!.slice_key}.parquet`);

    await api.setAttributes(reader.id, { regions: ['US'] });
    expect(await read.regions(reader)).toEqual(['US']);
    const us = await read.manifestEntry(reader, 'sales');
    expect(us.hash).not.toBe(eu.hash);
    expect(
      await parquetBytesRows(await read.download(reader, 'sales'), 'SELECT DISTINCT region FROM served'),
    ).toEqual([{ region: 'US' }]);
    // A download of the old binding's file by its hash is not served: the ETag is the new slice's.
    const stale = await fetch(`${server.url}/api/data/sales/download`, {
      headers: { authorization: reader.auth, 'if-none-match': `"${eu.hash}"` },
    });
    expect(stale.status).toBe(200);
    expect(stale.headers.get('etag')).toBe(`"${us.hash}"`);
    await stale.arrayBuffer();

    const maintenance = await call(server, 'POST', '/api/admin/maintenance', { auth: admin.auth });
    expect(maintenance.status).toBe(200);
    expect(maintenance.body.pruned.policy_slices).toBeGreaterThanOrEqual(1);
    expect(await read.sliceFiles('sales')).not.toContain(euSlice);
    expect((await server.ctx.repos.policySlices.list()).map((s) => `${s.slice_key}.parquet`)).not.toContain(
      euSlice,
    );
    // The current binding is rebuilt on its next request.
    expect(await read.regions(reader)).toEqual(['US']);

    // Editing the filter, disabling and deleting the policy each show on the next request.
    await api.updatePolicy(policy.id, { row_filter: "region = 'APAC'" });
    expect(await read.regions(reader)).toEqual(['APAC']);
    expect((await read.manifestEntry(reader, 'sales')).rows).toBe(10);
    await api.updatePolicy(policy.id, { enabled: false });
    expect(await read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(0);
    expect((await read.manifestEntry(reader, 'sales')).rows).toBe(0);
    await api.deletePolicy(policy.id);
    expect(await read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(40);
    const unbound = await read.manifestEntry(reader, 'sales');
    expect(unbound).not.toHaveProperty('policy');
    expect(unbound.hash).toBe((await server.ctx.repos.syncState.getState('sales'))!.hash);
  });

  it('follows a membership change: out of the group, out of its rows', async () => {
    const group = await api.createGroup('Customer care');
    await api.addMember(group, reader.id);
    await api.addPolicy('customers', {
      name: 'Care sees customers',
      applies_to: { everyone: false, users: [], groups: [group] },
    });
    expect(await read.scalar(reader, 'SELECT count(*) FROM customers')).toBe(7);
    await api.removeMember(group, reader.id);
    const answer = await read.query(reader, 'SELECT * FROM customers');
    expect(answer.rows).toEqual([]);
    expect(answer.columns).toEqual(['customer', 'name']);
  });
});

describe('a column dropped by a re-extract (12 §2 fails closed)', () => {
  let server: TestServer;
  let api: ReturnType<typeof policyAdmin>;
  let admins: TestUser[];
  let reader: TestUser;
  let read: ReturnType<typeof reading>;

  beforeAll(async () => {
    let admin: TestUser;
    ({ server, admin, api } = await policyServer());
    admins = [admin, await createUser(server.ctx, 'admin')];
    read = reading(server);
    reader = await createUser(server.ctx, 'analyst');
    await api.grant(reader.id, 'crm.*');
  });
  afterAll(async () => server.close());

  it('shows zero rows over the current columns, records the error and tells each admin once', async () => {
    const policy = await api.addPolicy('sales', {
      name: 'Regions',
      applies_to: everyone,
      row_filter: REGION_FILTER,
    });
    await api.setAttributes(reader.id, { regions: ['EU'] });
    expect(await read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(10);

    await makeExtract(join(server.dataDir, 'extracts'), 'crm', [
      {
        name: 'sales',
        select:
          "SELECT range AS id, 'c' || (range % 7) AS customer, (range * 10)::INTEGER AS amount FROM range(40)",
      },
      {
        name: 'customers',
        select: "SELECT 'c' || range AS customer, 'Name ' || range AS name FROM range(7)",
      },
      { name: 'plain', rows: 3 },
    ]);
    expect((await server.ctx.orchestrator.rebuild()).sources.crm?.status).toBe('ok');

    for (let i = 0; i < 2; i += 1) {
      const answer = await read.query(reader, 'SELECT * FROM sales');
      expect(answer.rows).toEqual([]);
      expect(answer.columns).toEqual(['id', 'customer', 'amount']);
    }
    expect(await read.manifestEntry(reader, 'sales')).toMatchObject({ rows: 0 });
    const [stored] = await api.policies('sales');
    expect(stored).toMatchObject({ id: policy.id, error: expect.stringContaining('region') });
    const check = await call(server, 'GET', `/api/admin/access-check?user_id=${reader.id}&table_id=sales`, {
      auth: admins[0]!.auth,
    });
    expect(check.body.policy).toMatchObject({
      kind: 'empty',
      policies: [],
      bound_filter: 'FALSE',
      error: expect.stringContaining('region'),
    });
    for (const admin of admins) {
      const notifications = (await server.ctx.repos.notifications.listForUser(admin.id)).items.filter(
        (n) => n.title === 'Row policy failed: sales / Regions',
      );
      expect(notifications).toHaveLength(1);
      expect(notifications[0]).toMatchObject({ source_kind: 'system' });
    }
    expect(
      (await server.ctx.repos.notifications.listForUser(reader.id)).items.filter((n) =>
        n.title.startsWith('Row policy'),
      ),
    ).toEqual([]);
  });
});

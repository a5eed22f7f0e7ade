import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  everyone,
  parquetBytesRows,
  parquetRows,
  policyServer,
  publishWebEvents,
  REGION_FILTER,
  reading,
  usePolicyServer,
} from '../../core/policies/policy-fixture.js';
import { makeExtract } from '../../support/extracts.js';
import { call, createUser, type TestUser } from '../../support/server.js';
import { registerTable } from './fixtures.js';

/**
 * Row policies end to end across the lives of their parts (12 §1–§3, §6): derived placeholders,
 * roles that are bound, the access check, a table whose content changes, a table unregistered,
 * a policy that recovers and fails again, and a new salt after a restart. Everything through the
 * public API; no test seam.
 */

const crmTables = (salesSelect: string) => [
  { name: 'sales', select: salesSelect },
  { name: 'customers', select: "SELECT 'c' || range AS customer, 'Name ' || range AS name FROM range(7)" },
  { name: 'plain', rows: 3 },
];
const SALES = (rows: number, withRegion = true) =>
  `SELECT range AS id, ${withRegion ? "['EU', 'US', 'APAC', 'LATAM'][(range % 4) + 1] AS region, " : ''}'c' || (range % 7) AS customer, (range * 10)::INTEGER AS amount FROM range(${rows})`;

describe('who is bound and by what (12 §1, §2, §4)', () => {
  const s = usePolicyServer();

  it('binds km_admins like analysts, through group names and the email', async () => {
    const [kmAdmin, other] = await Promise.all([
      createUser(s.server.ctx, 'km_admin', { email: "o'brien@example.com" }),
      createUser(s.server.ctx, 'analyst'),
    ]);
    for (const user of [kmAdmin, other]) await s.api.grant(user.id, 'crm.*');
    // A group named like a region: `{{user.groups}}` binds the names.
    const group = await s.api.createGroup('US');
    await s.api.addMember(group, kmAdmin.id);
    await s.api.addPolicy('sales', {
      name: 'By group name',
      applies_to: everyone,
      row_filter: 'list_contains({{user.groups}}, region)',
    });
    await s.api.addPolicy('customers', {
      name: 'By email',
      applies_to: everyone,
      row_filter: "{{user.email}} = 'o''brien@example.com' OR name = 'Name 0'",
    });
    expect(await s.read.regions(kmAdmin)).toEqual(['US']);
    expect(await s.read.scalar(kmAdmin, 'SELECT count(*) FROM customers')).toBe(7);
    expect(await s.read.regions(other)).toEqual([]);
    expect(await s.read.scalar(other, 'SELECT count(*) FROM customers')).toBe(1);

    const check = await call(
      s.server,
      'GET',
      `/api/admin/access-check?user_id=${kmAdmin.id}&table_id=sales`,
      {
        auth: s.admin.auth,
      },
    );
    expect(check.status).toBe(200);
    expect(check.body.policy).toMatchObject({
      kind: 'slice',
      policies: [{ name: 'By group name' }],
      masked_columns: [],
      error: null,
    });
    expect(check.body.policy.bound_filter).toContain("'US'");
    const bypass = await call(
      s.server,
      'GET',
      `/api/admin/access-check?user_id=${s.admin.id}&table_id=sales`,
      {
        auth: s.admin.auth,
      },
    );
    expect(bypass.body.policy).toBeNull();
  });

  it('shows the bound filter of hostile values as quoted literals in the access check', async () => {
    const reader = await createUser(s.server.ctx, 'analyst');
    await s.api.grant(reader.id, 'crm.*');
    await s.api.addPolicy('plain', {
      name: 'Attr',
      applies_to: everyone,
      row_filter: 'list_contains({{user.attr.labels}}, label)',
    });
    await s.api.setAttributes(reader.id, { labels: ["v1') OR TRUE --", 'v2'] });
    expect((await s.read.query(reader, 'SELECT label FROM plain')).rows).toEqual([['v2']]);
    const check = await call(s.server, 'GET', `/api/admin/access-check?user_id=${reader.id}&table_id=plain`, {
      auth: s.admin.auth,
    });
    expect(check.body.policy.bound_filter).toContain("'v1'') OR TRUE --'");
  });
});

describe('a bound table whose content changes, then is unregistered (12 §3)', () => {
  const s = usePolicyServer();

  let reader: TestUser;

  beforeAll(async () => {
    reader = await createUser(s.server.ctx, 'analyst');
    await s.api.grant(reader.id, 'crm.*');
  });

  const republish = async (salesSelect: string) => {
    await makeExtract(join(s.server.dataDir, 'extracts'), 'crm', crmTables(salesSelect));
    expect((await s.server.ctx.orchestrator.rebuild()).sources.crm?.status).toBe('ok');
  };
  const maintenance = async () => {
    const response = await call(s.server, 'POST', '/api/admin/maintenance', { auth: s.admin.auth });
    expect(response.status).toBe(200);
    return response.body.pruned.policy_slices as number;
  };

  it('builds a new slice for new content and deletes the old one at the next maintenance', async () => {
    await s.api.addPolicy('sales', { name: 'Regions', applies_to: everyone, row_filter: REGION_FILTER });
    await s.api.setAttributes(reader.id, { regions: ['EU'] });
    expect(await s.read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(10);
    const [before] = await s.read.sliceFiles('sales');
    const oldHash = (await s.read.manifestEntry(reader, 'sales')).hash;

    await republish(SALES(80));
    expect(await s.read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(20);
    const entry = await s.read.manifestEntry(reader, 'sales');
    expect(entry).toMatchObject({ rows: 20 });
    expect(entry.hash).not.toBe(oldHash);
    expect(await s.read.sliceFiles('sales')).toHaveLength(2);
    // The default TTL is a week: only the slice of the old content goes.
    expect(await maintenance()).toBe(1);
    const after = await s.read.sliceFiles('sales');
    expect(after).toHaveLength(1);
    expect(after).not.toContain(before);
  });

  it('unregistering the table deletes its policies; maintenance deletes its slices', async () => {
    expect(await s.read.sliceFiles('sales')).not.toEqual([]);
    const removed = await call(s.server, 'DELETE', '/api/admin/registry/sales', { auth: s.admin.auth });
    expect(removed.status).toBe(204);
    expect(
      (await call(s.server, 'GET', '/api/admin/tables/sales/policies', { auth: s.admin.auth })).status,
    ).toBe(404);
    expect(await s.server.ctx.repos.policies.listForTables(['sales'])).toEqual([]);
    expect(await maintenance()).toBeGreaterThanOrEqual(1);
    expect(await s.read.sliceFiles('sales')).toEqual([]);

    // Registered again, the table is no longer bound: the old policies did not come back.
    const registered = await call(s.server, 'POST', '/api/admin/register-table', {
      auth: s.admin.auth,
      body: { name: 'sales', source_type: 'local', source: 'crm', bucket: 'crm' },
    });
    expect(registered.status, registered.text).toBe(201);
    expect(await s.read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(80);
  });
});

describe('a policy that recovers and fails again notifies again (12 §2)', () => {
  const s = usePolicyServer();

  it('clears the error when the column is back and notifies each admin again at the next failure', async () => {
    const reader = await createUser(s.server.ctx, 'analyst');
    await s.api.grant(reader.id, 'crm.*');
    await s.api.addPolicy('sales', { name: 'Regions', applies_to: everyone, row_filter: REGION_FILTER });
    await s.api.setAttributes(reader.id, { regions: ['EU'] });
    const failures = async () =>
      (await s.server.ctx.repos.notifications.listForUser(s.admin.id)).items.filter(
        (n) => n.title === 'Row policy failed: sales / Regions',
      ).length;
    const publish = async (withRegion: boolean) => {
      await makeExtract(join(s.server.dataDir, 'extracts'), 'crm', crmTables(SALES(40, withRegion)));
      expect((await s.server.ctx.orchestrator.rebuild()).sources.crm?.status).toBe('ok');
    };

    await publish(false);
    expect(await s.read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(0);
    expect(await failures()).toBe(1);
    await publish(true);
    expect(await s.read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(10);
    expect((await s.api.policies('sales'))[0]?.error).toBeNull();
    expect(await failures()).toBe(1);
    await publish(false);
    expect(await s.read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(0);
    expect(await failures()).toBe(2);
  });
});

describe('a type change that makes a filter fail (12 §2 fails closed)', () => {
  const s = usePolicyServer();

  it("refuses at write time a filter that does not fit the table's column types (422)", async () => {
    for (const row_filter of [
      "region + 1 > 0 OR region = 'secret-literal'",
      'list_contains({{user.attr.regions}}, id)',
    ]) {
      const response = await call(s.server, 'POST', '/api/admin/tables/sales/policies', {
        auth: s.admin.auth,
        body: { name: 'Mistyped', applies_to: everyone, row_filter },
      });
      expect([row_filter, response.status, response.body.code]).toEqual([row_filter, 422, 'invalid_policy']);
      expect(response.text).not.toContain('secret-literal');
    }
  });

  it('shows the empty view, records the error and tells each admin once, then recovers', async () => {
    const reader = await createUser(s.server.ctx, 'analyst');
    await s.api.grant(reader.id, 'crm.*');
    await s.api.addPolicy('sales', { name: 'Big', applies_to: everyone, row_filter: 'amount + 1 > 300' });
    expect(await s.read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(10);
    const textAmounts =
      "SELECT range AS id, ['EU', 'US', 'APAC', 'LATAM'][(range % 4) + 1] AS region, 'c' || (range % 7) AS customer, 'x' || range AS amount FROM range(40)";
    await makeExtract(join(s.server.dataDir, 'extracts'), 'crm', crmTables(textAmounts));
    expect((await s.server.ctx.orchestrator.rebuild()).sources.crm?.status).toBe('ok');

    for (let i = 0; i < 2; i += 1) {
      const answer = await s.read.query(reader, 'SELECT * FROM sales');
      expect(answer.rows).toEqual([]);
      expect(answer.column_types).toEqual(['BIGINT', 'VARCHAR', 'VARCHAR', 'VARCHAR']);
    }
    expect((await s.api.policies('sales'))[0]?.error).toEqual(expect.any(String));
    const failures = (await s.server.ctx.repos.notifications.listForUser(s.admin.id)).items.filter(
      (n) => n.title === 'Row policy failed: sales / Big',
    );
    expect(failures).toHaveLength(1);

    await makeExtract(join(s.server.dataDir, 'extracts'), 'crm', crmTables(SALES(40)));
    expect((await s.server.ctx.orchestrator.rebuild()).sources.crm?.status).toBe('ok');
    expect(await s.read.scalar(reader, 'SELECT count(*) FROM sales')).toBe(10);
    expect((await s.api.policies('sales'))[0]?.error).toBeNull();
  });
});

describe('a filter that fails on the data (12 §2 fails closed)', () => {
  const s = usePolicyServer();

  it("shows that table's empty view, leaves the reader's other tables alone and does not rebuild", async () => {
    const reader = await createUser(s.server.ctx, 'analyst');
    await s.api.grant(reader.id, 'crm.*');
    // Binds (customer is VARCHAR), but no value of customer ('c0' …) converts to an integer.
    await s.api.addPolicy('sales', {
      name: 'Cast',
      applies_to: everyone,
      row_filter: 'CAST(customer AS INTEGER) > 3',
    });
    expect(await s.read.scalar(reader, 'SELECT count(*) FROM plain')).toBe(3);
    const builds = s.server.ctx.policies.slices.builds;
    const answer = await s.read.query(reader, 'SELECT * FROM sales');
    expect(answer.rows).toEqual([]);
    expect(answer.columns).toEqual(['id', 'region', 'customer', 'amount']);
    expect(s.server.ctx.policies.slices.builds).toBe(builds);
    const entry = await s.read.manifestEntry(reader, 'sales');
    expect(entry).toMatchObject({ rows: 0 });
    expect(
      await parquetBytesRows(await s.read.download(reader, 'sales'), 'SELECT count(*) AS n FROM served'),
    ).toEqual([{ n: 0 }]);
  });
});

describe('a new salt after a restart (12 §6)', () => {
  let dataDir: string;
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('rebuilds every hash-masked slice with the new salt and keeps the others', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'agnes-salt-'));
    const saltA = 'salt-a-0123456789abcdef0123456789abcdef';
    const saltB = 'salt-b-0123456789abcdef0123456789abcdef';
    const digest = async (salt: string, value: string) =>
      (await parquetRows({}, `SELECT sha256('${salt}:${value}') AS h`))[0]!.h;
    const customerOfFirst = 'SELECT customer FROM customers ORDER BY name LIMIT 1';

    const first = await policyServer({ dataDir, salt: saltA });
    const reader = await createUser(first.server.ctx, 'analyst', { email: 'salted@example.com' });
    await first.api.grant(reader.id, 'crm.*');
    await first.api.addPolicy('customers', {
      name: 'Hashed',
      applies_to: everyone,
      masked_columns: [{ column: 'customer', mask: 'hash' }],
    });
    await first.api.addPolicy('sales', { name: 'EU', applies_to: everyone, row_filter: "region = 'EU'" });
    const readA = reading(first.server);
    expect(await readA.scalar(reader, customerOfFirst)).toBe(await digest(saltA, 'c0'));
    const salesSlices = await readA.sliceFiles('sales');
    const customerSlices = await readA.sliceFiles('customers');
    await first.server.close();

    const second = await policyServer({ dataDir, salt: saltB });
    try {
      const readB = reading(second.server);
      expect(await readB.scalar(reader, customerOfFirst)).toBe(await digest(saltB, 'c0'));
      expect(await readB.scalar(reader, 'SELECT count(*) FROM sales')).toBe(10);
      expect(await readB.sliceFiles('sales')).toEqual(salesSlices);
      expect((await readB.sliceFiles('customers')).filter((f) => !customerSlices.includes(f))).toHaveLength(
        1,
      );
    } finally {
      await second.server.close();
    }
  });
});

describe('a bound multi-file table (12 §3 manifest)', () => {
  const s = usePolicyServer();

  let reader: TestUser;

  beforeAll(async () => {
    await publishWebEvents(s.server.ctx, s.server.dataDir);
    reader = await createUser(s.server.ctx, 'analyst');
    await s.api.grant(reader.id, 'web.*');
    await s.api.addPolicy('events', { name: 'Regions', applies_to: everyone, row_filter: REGION_FILTER });
    await s.api.setAttributes(reader.id, { regions: ['EU'] });
  });

  it('lists the slice of its shards as one file, served by name and whole', async () => {
    expect(await s.read.scalar(reader, "SELECT count(*) FROM events WHERE region = 'EU' OR TRUE")).toBe(9);
    const entry = await s.read.manifestEntry(reader, 'events');
    expect(entry).toMatchObject({ layout: 'single', rows: 9 });
    expect(entry.files).toEqual([{ name: 'events.parquet', size: entry.size_bytes, hash: entry.hash }]);
    const byName = await fetch(`${s.server.url}/api/data/events/files/events.parquet`, {
      headers: { authorization: reader.auth },
    });
    expect(byName.status).toBe(200);
    const bytes = Buffer.from(await byName.arrayBuffer());
    expect(bytes).toEqual(await s.read.download(reader, 'events'));
    expect(
      await parquetBytesRows(
        bytes,
        'SELECT region, count(DISTINCT shard) AS shards, count(*) AS n FROM served GROUP BY region',
      ),
    ).toEqual([{ region: 'EU', shards: 3, n: 9 }]);
    // A shard's own name is not the reader's to fetch.
    const shard = await fetch(`${s.server.url}/api/data/events/files/part-0.parquet`, {
      headers: { authorization: reader.auth },
    });
    await shard.arrayBuffer();
    expect(shard.status).toBe(404);
  });
});

describe('columns with unusual names (12 §1, §2)', () => {
  const s = usePolicyServer();

  beforeAll(async () => {
    await makeExtract(join(s.server.dataDir, 'extracts'), 'odd', [
      {
        name: 'odd',
        select: `SELECT range AS "ID", ['EU', 'US'][(range % 2) + 1] AS "Région", 'k' || range AS "a""b", range * 2 AS "Total Amount" FROM range(6)`,
      },
    ]);
    expect((await s.server.ctx.orchestrator.rebuild()).sources.odd?.status).toBe('ok');
    await registerTable(s.server.ctx, 'odd', { source: 'odd', source_type: 'local', bucket: 'odd' });
  });

  it('filters and masks quoted, accented and mixed-case columns', async () => {
    const reader = await createUser(s.server.ctx, 'analyst');
    await s.api.grant(reader.id, 'odd.*');
    await s.api.addPolicy('odd', {
      name: 'Odd',
      applies_to: everyone,
      row_filter: 'list_contains({{user.attr.regions}}, "Région") AND "Total Amount" >= 0 AND id >= 0',
      masked_columns: [
        { column: 'a"b', mask: 'hash' },
        { column: 'total amount', mask: 'null' },
      ],
    });
    await s.api.setAttributes(reader.id, { regions: ['EU'] });
    const answer = await s.read.query(reader, 'SELECT * FROM odd ORDER BY "ID"');
    expect(answer.columns).toEqual(['ID', 'Région', 'a"b', 'Total Amount']);
    expect(answer.rows.map((row) => [row[0], row[1], row[3]])).toEqual([
      [0, 'EU', null],
      [2, 'EU', null],
      [4, 'EU', null],
    ]);
    expect(answer.rows.every((row) => typeof row[2] === 'string' && /^[0-9a-f]{64}$/.test(row[2]))).toBe(
      true,
    );
    const entry = await s.read.manifestEntry(reader, 'odd');
    expect(entry).toMatchObject({
      rows: 3,
      policy: {
        masked_columns: [
          { column: 'Total Amount', mask: 'null' },
          { column: 'a"b', mask: 'hash' },
        ],
      },
    });
  });
});

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { setupShop } from '../../support/shop.js';

/**
 * `POST /api/admin/policies/preview` (12 §4): what a user would see of a table under the saved
 * policies with a draft in place of the saved one of its name, read through the query engine and
 * leaving nothing behind (no policy, no slice, no recorded error).
 */

const EVERYONE = { everyone: true, users: [], groups: [] };

describe('previewing row policies as a user', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  const preview = (body: Record<string, unknown>, auth = admin.auth) =>
    call(server, 'POST', '/api/admin/policies/preview', { auth, body });
  const sliceFiles = async () => readdir(join(server.dataDir, 'slices')).catch(() => []);

  beforeAll(async () => {
    server = await withServer({ env: { AGNES_POLICY_SALT: 'preview-salt-0123456789abcdef0123456789' } });
    ({ admin, analyst } = await setupShop(server));
    const attributes = await call(server, 'PUT', `/api/admin/users/${analyst.id}/attributes`, {
      auth: admin.auth,
      body: { attributes: { statuses: ['open'] } },
    });
    expect(attributes.status).toBe(200);
  });
  afterAll(async () => server.close());

  it('shows the full table for an unbound table, and the saved policy bound for the user', async () => {
    const unbound = await preview({ table_id: 'orders', user_id: analyst.id });
    expect(unbound.status).toBe(200);
    expect(unbound.body).toMatchObject({ kind: 'full', policies: [], bound_filter: null, rows: 200 });
    expect(unbound.body.sample.rows).toHaveLength(20);

    const saved = await call(server, 'POST', '/api/admin/tables/orders/policies', {
      auth: admin.auth,
      body: {
        name: 'By status',
        applies_to: EVERYONE,
        row_filter: 'list_contains({{user.attr.statuses}}, status)',
      },
    });
    expect(saved.status).toBe(201);
    const bound = await preview({ table_id: 'orders', user_id: analyst.id });
    expect(bound.body).toMatchObject({
      kind: 'slice',
      policies: [{ id: saved.body.id, name: 'By status' }],
      masked_columns: [],
    });
    expect(bound.body.bound_filter).toContain("'open'");
    // range(200) with every third row open: 0, 3, …, 198.
    expect(bound.body.rows).toBe(67);
    const statusAt = bound.body.sample.columns.indexOf('status');
    expect(new Set(bound.body.sample.rows.map((row: unknown[]) => row[statusAt]))).toEqual(new Set(['open']));

    // An admin is never bound (12 §1).
    expect((await preview({ table_id: 'orders', user_id: admin.id })).body).toMatchObject({
      kind: 'full',
      rows: 200,
    });
  });

  it('puts a draft in place of the saved policy of its name, masks included, and stores nothing', async () => {
    const draft = {
      name: 'by STATUS',
      applies_to: EVERYONE,
      row_filter: "status = 'closed' AND order_id < 10",
      masked_columns: [
        { column: 'amount', mask: 'null' },
        { column: 'customer_id', mask: 'hash' },
      ],
    };
    const response = await preview({ table_id: 'orders', user_id: analyst.id, policy: draft });
    expect(response.status).toBe(200);
    expect(response.body.kind).toBe('slice');
    expect(response.body.masked_columns).toEqual([
      { column: 'amount', mask: 'null' },
      { column: 'customer_id', mask: 'hash' },
    ]);
    // 1, 2, 4, 5, 7, 8 are closed below 10; the saved open-status policy was replaced, not ORed.
    expect(response.body.rows).toBe(6);
    const { columns, rows } = response.body.sample;
    expect(columns).toEqual(['order_id', 'customer_id', 'amount', 'status']);
    for (const row of rows) {
      expect(row[2]).toBeNull();
      expect(row[1]).toMatch(/^[0-9a-f]{64}$/);
    }

    // A draft under a new name is added to the saved policy: rows are ORed (12 §1).
    const added = await preview({
      table_id: 'orders',
      user_id: analyst.id,
      policy: {
        name: 'Small closed',
        applies_to: EVERYONE,
        row_filter: "status = 'closed' AND order_id < 10",
      },
    });
    expect(added.body.rows).toBe(67 + 6);
    expect(added.body.policies.map((p: { name: string }) => p.name).sort()).toEqual([
      'By status',
      'Small closed',
    ]);

    const stored = await call(server, 'GET', '/api/admin/tables/orders/policies', { auth: admin.auth });
    expect(stored.body.policies.map((p: { name: string }) => p.name)).toEqual(['By status']);
    expect(await sliceFiles()).toEqual([]);
  });

  it('refuses a hostile draft with invalid_policy, unknown tables and users with 404, and non-admins', async () => {
    const hostile = await preview({
      table_id: 'orders',
      user_id: analyst.id,
      policy: {
        name: 'x',
        applies_to: EVERYONE,
        row_filter: "order_id IN (SELECT 1 FROM read_parquet('/etc/passwd'))",
      },
    });
    expect(hostile.status).toBe(422);
    expect(hostile.body.code).toBe('invalid_policy');
    expect((await preview({ table_id: 'nope', user_id: analyst.id })).status).toBe(404);
    expect((await preview({ table_id: 'orders', user_id: 'not-a-user' })).status).toBe(404);
    const refused = await preview({ table_id: 'orders', user_id: analyst.id }, analyst.auth);
    expect(refused.status).toBe(403);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { principalOfUser } from '../../../src/core/access/principal.js';
import { loadEffectiveViews, policyLoadDeps } from '../../../src/core/policies/load.js';
import type { NewRowPolicy } from '../../../src/core/state/repositories/index.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { setupShop } from '../../support/shop.js';

/**
 * Policies with filters and masks: checked at write time against the table's columns, bound per
 * request by loadEffectiveViews, and recorded when they stop binding (12 §2, §4). These run the
 * filter language of `core/policies/evaluate.ts`.
 */

const EVERYONE = { everyone: true, users: [], groups: [] };

describe('row policies that bind filters and masks', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;
  let secondAdmin: TestUser;

  const create = (body: Record<string, unknown>) =>
    call(server, 'POST', '/api/admin/tables/orders/policies', { auth: admin.auth, body });
  /** Straight into the store: a policy as a re-extract may leave it, past the write-time check. */
  const stored = (fields: Partial<NewRowPolicy> & Pick<NewRowPolicy, 'name'>) =>
    server.ctx.repos.policies.create({
      table_id: 'orders',
      description: '',
      applies_to: EVERYONE,
      row_filter: null,
      masked_columns: [],
      enabled: true,
      created_by: admin.id,
      ...fields,
    });
  const viewsOf = async (user: TestUser, tableIds = ['orders']) => {
    const record = await server.ctx.repos.users.getById(user.id);
    return loadEffectiveViews(
      policyLoadDeps(server.ctx),
      await principalOfUser(server.ctx.repos, record!),
      tableIds,
    );
  };
  const failureNotices = async (user: TestUser) =>
    (await server.ctx.repos.notifications.listForUser(user.id)).items.filter((n) =>
      n.title.startsWith('Row policy failed: orders / '),
    );
  const clear = async () => {
    for (const p of await server.ctx.repos.policies.listForTable('orders'))
      await server.ctx.repos.policies.delete(p.id);
  };

  beforeAll(async () => {
    server = await withServer();
    ({ admin, analyst } = await setupShop(server));
    secondAdmin = await createUser(server.ctx, 'admin');
  });
  afterAll(async () => server.close());

  it('accepts a filter and masks over the current columns, and refuses hostile ones with invalid_policy', async () => {
    const created = await create({
      name: 'Open',
      applies_to: EVERYONE,
      row_filter: "status = 'open' AND list_contains({{user.attr.regions}}, 'EU') OR {{user.email}} = 'x'",
      masked_columns: [{ column: 'amount', mask: 'hash' }],
    });
    expect(created.status).toBe(201);
    expect(created.body.row_filter).toContain('{{user.attr.regions}}');
    const hostile = [
      'order_id IN (SELECT customer_id FROM customers)',
      "order_id IN (SELECT 1 FROM read_parquet('/etc/passwd'))",
      'region = 1',
      'orders.status = 1',
      'count(*) > 0',
      'TRUE; DROP TABLE orders',
      'TRUE -- comment',
    ];
    for (const row_filter of hostile) {
      const response = await create({ name: 'Hostile', applies_to: EVERYONE, row_filter });
      expect(response.status, row_filter).toBe(422);
      expect(response.body.code).toBe('invalid_policy');
    }
    for (const masked_columns of [
      [{ column: 'salary', mask: 'null' }],
      [
        { column: 'amount', mask: 'null' },
        { column: 'amount', mask: 'hash' },
      ],
    ]) {
      const response = await create({ name: 'Masks', applies_to: EVERYONE, masked_columns });
      expect(response.status, JSON.stringify(masked_columns)).toBe(422);
      expect(response.body.code).toBe('invalid_policy');
    }
    const badUpdate = await call(server, 'PUT', `/api/admin/policies/${created.body.id}`, {
      auth: admin.auth,
      body: { row_filter: 'region = 1' },
    });
    expect(badUpdate.status).toBe(422);
    expect((await server.ctx.repos.policies.get(created.body.id))?.row_filter).toBe(created.body.row_filter);
    await clear();
  });

  it('gives a bound reader a slice view and the access check the same answer', async () => {
    const open = await stored({ name: 'Open', row_filter: "status = 'open'" });
    const masked = await stored({ name: 'Masked', masked_columns: [{ column: 'amount', mask: 'null' }] });
    const view = (await viewsOf(analyst)).get('orders');
    expect(view).toMatchObject({ kind: 'slice', masks: [{ column: 'amount', mask: 'null' }], failures: [] });
    expect(view?.policies.map((p) => p.id).sort()).toEqual([open.id, masked.id].sort());
    expect(view?.bound_filter).toEqual(expect.any(String));
    const check = await call(server, 'GET', `/api/admin/access-check?user_id=${analyst.id}&table_id=orders`, {
      auth: admin.auth,
    });
    expect(check.body).toEqual({
      allowed: true,
      reason: 'user_grant',
      via: null,
      policy: {
        kind: 'slice',
        policies: view?.policies,
        bound_filter: view?.bound_filter,
        masked_columns: [{ column: 'amount', mask: 'null' }],
        error: null,
      },
    });
    await clear();
  });

  it('gives the empty view when no enabled policy applies to the reader', async () => {
    await stored({ name: 'Someone else', applies_to: { everyone: false, users: [admin.id], groups: [] } });
    await stored({ name: 'Disabled', enabled: false });
    expect((await viewsOf(analyst)).get('orders')).toMatchObject({
      kind: 'empty',
      policies: [],
      failures: [],
    });
    await clear();
  });

  it('records a policy that stops binding, tells each admin once, and clears it when it binds again', async () => {
    const broken = await stored({ name: 'Regional', row_filter: "region = 'EU'" });
    const first = (await viewsOf(analyst)).get('orders');
    expect(first).toMatchObject({ kind: 'empty', failures: [{ policy_id: broken.id }] });
    const reason = first?.failures[0]?.reason ?? '';
    expect(reason).not.toContain("'EU'");
    expect((await server.ctx.repos.policies.get(broken.id))?.error).toBe(reason);
    await viewsOf(analyst);
    for (const who of [admin, secondAdmin]) {
      const notices = await failureNotices(who);
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({
        title: 'Row policy failed: orders / Regional',
        source_kind: 'system',
      });
    }
    expect(await failureNotices(analyst)).toEqual([]);
    const listed = await call(server, 'GET', '/api/admin/tables/orders/policies', { auth: admin.auth });
    expect(listed.body.policies[0].error).toBe(reason);
    const check = await call(server, 'GET', `/api/admin/access-check?user_id=${analyst.id}&table_id=orders`, {
      auth: admin.auth,
    });
    expect(check.body.policy).toMatchObject({ kind: 'empty', error: `Regional: ${reason}` });

    await server.ctx.repos.policies.update(broken.id, { row_filter: "status = 'open'", updated_by: null });
    expect((await viewsOf(analyst)).get('orders')?.kind).toBe('slice');
    expect((await server.ctx.repos.policies.get(broken.id))?.error).toBeNull();

    await server.ctx.repos.policies.update(broken.id, { row_filter: "region = 'EU'", updated_by: null });
    await viewsOf(analyst);
    expect(await failureNotices(admin)).toHaveLength(2);
    await clear();
  });

  it('clears the error when an admin saves a filter that binds', async () => {
    const broken = await stored({ name: 'Fixable', row_filter: "region = 'EU'" });
    await viewsOf(analyst);
    expect((await server.ctx.repos.policies.get(broken.id))?.error).not.toBeNull();
    const fixed = await call(server, 'PUT', `/api/admin/policies/${broken.id}`, {
      auth: admin.auth,
      body: { row_filter: "status = 'closed'" },
    });
    expect(fixed.status).toBe(200);
    expect(fixed.body.error).toBeNull();
    await clear();
  });
});

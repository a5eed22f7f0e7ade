import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { setupShop } from '../../support/shop.js';

/** The catalog detail's `policy` (12 §4): what a bound reader is told, and what an admin sees. */

describe('the catalog detail of a policy-bound table', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  const detail = (user: TestUser) => call(server, 'GET', '/api/catalog/tables/orders', { auth: user.auth });
  const addPolicy = (body: Record<string, unknown>) =>
    call(server, 'POST', '/api/admin/tables/orders/policies', { auth: admin.auth, body });

  beforeAll(async () => {
    server = await withServer();
    ({ admin, analyst } = await setupShop(server));
  });
  afterAll(async () => server.close());

  it('is null for an unbound table, for readers and admins alike', async () => {
    expect((await detail(analyst)).body.policy).toBeNull();
    expect((await detail(admin)).body.policy).toBeNull();
  });

  it('names the applicable policies and masks for a bound reader, and says when none applies', async () => {
    const other = await addPolicy({
      name: 'Only the admin',
      applies_to: { everyone: false, users: [admin.id], groups: [] },
      row_filter: 'order_id < 5',
    });
    expect(other.status).toBe(201);
    const none = await detail(analyst);
    expect(none.body.policy).toEqual({ names: [], masked_columns: [], rows_visible: 'none' });
    expect(none.body.rows).toBe(0);

    const open = await addPolicy({
      name: 'Open orders',
      applies_to: { everyone: true, users: [], groups: [] },
      row_filter: "status = 'open'",
      masked_columns: [{ column: 'amount', mask: 'null' }],
    });
    expect(open.status).toBe(201);
    const filtered = await detail(analyst);
    expect(filtered.body.policy).toEqual({
      names: ['Open orders'],
      masked_columns: [{ column: 'amount', mask: 'null' }],
      rows_visible: 'filtered',
    });
    expect(filtered.body.rows).toBe(67);

    const forAdmin = await detail(admin);
    expect(forAdmin.body.rows).toBe(200);
    expect(
      forAdmin.body.policy.policies.map((p: { name: string; error: unknown }) => [p.name, p.error]),
    ).toEqual([
      ['Only the admin', null],
      ['Open orders', null],
    ]);
  });

  it('keeps the admin table page usable when the published files cannot be read', async () => {
    const state = await server.ctx.repos.syncState.getState('customers');
    for (const file of state?.files ?? []) await rm(join(server.dataDir, file.path));
    const reply = await call(server, 'GET', '/admin/tables/customers', {
      headers: { accept: 'text/html', authorization: admin.auth },
    });
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('Policies');
  });
});

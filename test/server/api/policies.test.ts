import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEffectiveViews, policyLoadDeps } from '../../../src/core/policies/load.js';
import { tempDir } from '../../support/extracts.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';
import { setupShop } from '../../support/shop.js';
import { registerTable } from './fixtures.js';

/**
 * Storage and admin API of row policies and user attributes (12 §1, §4). Every policy here has
 * no filter and no masks, so nothing in this file binds a filter; binding is in
 * policies-binding.test.ts.
 */

const EVERYONE = { everyone: true, users: [], groups: [] };

describe('row policies: admin API (12 §4)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  const create = (tableId: string, body: Record<string, unknown>) =>
    call(server, 'POST', `/api/admin/tables/${tableId}/policies`, { auth: admin.auth, body });

  beforeAll(async () => {
    server = await withServer();
    ({ admin, analyst } = await setupShop(server));
    await registerTable(server.ctx, 'ledger');
  });
  afterAll(async () => server.close());

  it('creates a policy with the defaults, lists it and answers the RowPolicy shape', async () => {
    const created = await create('orders', { name: 'Open orders', applies_to: EVERYONE });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      table_id: 'orders',
      name: 'Open orders',
      description: '',
      applies_to: EVERYONE,
      row_filter: null,
      masked_columns: [],
      enabled: true,
      error: null,
      created_by: admin.id,
      created_at: expect.any(String),
      updated_by: admin.id,
      updated_at: expect.any(String),
    });
    const listed = await call(server, 'GET', '/api/admin/tables/orders/policies', { auth: admin.auth });
    expect(listed.status).toBe(200);
    expect(listed.body.policies).toEqual([created.body]);
    await call(server, 'DELETE', `/api/admin/policies/${created.body.id}`, { auth: admin.auth });
  });

  it('keeps names unique per table case-insensitively (409 policy_exists)', async () => {
    const first = await create('ledger', { name: 'Region', applies_to: EVERYONE, enabled: false });
    expect(first.status).toBe(201);
    const clash = await create('ledger', { name: 'rEGION', applies_to: EVERYONE });
    expect(clash.status).toBe(409);
    expect(clash.body.code).toBe('policy_exists');
    const elsewhere = await create('orders', { name: 'region', applies_to: EVERYONE });
    expect(elsewhere.status).toBe(201);
    const second = await create('ledger', { name: 'Other', applies_to: EVERYONE });
    const rename = await call(server, 'PUT', `/api/admin/policies/${second.body.id}`, {
      auth: admin.auth,
      body: { name: 'REGION' },
    });
    expect(rename.status).toBe(409);
    expect(rename.body.code).toBe('policy_exists');
    const listed = await call(server, 'GET', '/api/admin/tables/ledger/policies', { auth: admin.auth });
    expect(listed.body.policies.map((p: { name: string }) => p.name)).toEqual(['Other', 'Region']);
    for (const id of [first.body.id, second.body.id, elsewhere.body.id])
      expect((await call(server, 'DELETE', `/api/admin/policies/${id}`, { auth: admin.auth })).status).toBe(
        204,
      );
  });

  it('replaces only the given fields on PUT, and deletes with 204', async () => {
    const group = await server.ctx.repos.groups.create({ name: 'Sales EU' });
    const created = await create('ledger', {
      name: 'Sales',
      description: 'Sales see their rows',
      applies_to: { everyone: false, users: [analyst.id], groups: [] },
    });
    expect(created.status).toBe(201);
    const updated = await call(server, 'PUT', `/api/admin/policies/${created.body.id}`, {
      auth: admin.auth,
      body: {
        name: 'Sales team',
        enabled: false,
        applies_to: { everyone: false, users: [analyst.id, analyst.id], groups: [group.id] },
      },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({
      ...created.body,
      name: 'Sales team',
      enabled: false,
      applies_to: { everyone: false, users: [analyst.id], groups: [group.id] },
      updated_at: expect.any(String),
    });
    const cleared = await call(server, 'PUT', `/api/admin/policies/${created.body.id}`, {
      auth: admin.auth,
      body: { description: '' },
    });
    expect(cleared.body.description).toBe('');
    expect(cleared.body.name).toBe('Sales team');
    const deleted = await call(server, 'DELETE', `/api/admin/policies/${created.body.id}`, {
      auth: admin.auth,
    });
    expect(deleted.status).toBe(204);
    const again = await call(server, 'PUT', `/api/admin/policies/${created.body.id}`, {
      auth: admin.auth,
      body: { enabled: true },
    });
    expect(again.status).toBe(404);
    const listed = await call(server, 'GET', '/api/admin/tables/ledger/policies', { auth: admin.auth });
    expect(listed.body.policies).toEqual([]);
  });

  it('answers 404 for an unknown or malformed policy id and an unregistered table', async () => {
    for (const id of [randomUUID(), 'not-a-uuid', "x' OR 1=1 --"]) {
      const path = `/api/admin/policies/${encodeURIComponent(id)}`;
      expect((await call(server, 'PUT', path, { auth: admin.auth, body: { enabled: false } })).status).toBe(
        404,
      );
      expect((await call(server, 'DELETE', path, { auth: admin.auth })).status).toBe(404);
    }
    expect(
      (await call(server, 'GET', '/api/admin/tables/returns/policies', { auth: admin.auth })).status,
    ).toBe(404);
    const unregistered = await create('returns', { name: 'x', applies_to: EVERYONE });
    expect(unregistered.status).toBe(404);
    expect(unregistered.body.code).toBe('not_found');
  });

  it('refuses bodies that break the schema or name no one (422)', async () => {
    const bodies: Record<string, unknown>[] = [
      { applies_to: EVERYONE },
      { name: 'x' },
      { name: '', applies_to: EVERYONE },
      { name: 'n'.repeat(101), applies_to: EVERYONE },
      { name: 'x', description: 'd'.repeat(2001), applies_to: EVERYONE },
      { name: 'x', row_filter: 'f'.repeat(4001), applies_to: EVERYONE },
      { name: 'x', row_filter: '', applies_to: EVERYONE },
      { name: 'x', masked_columns: [{ column: 'amount', mask: 'blur' }], applies_to: EVERYONE },
      { name: 'x', masked_columns: [{ column: 'amount' }], applies_to: EVERYONE },
      { name: 'x', applies_to: { everyone: true } },
      { name: 'x', applies_to: EVERYONE, owner: 'me' },
      { name: 'x', applies_to: { everyone: false, users: [], groups: [] } },
      { name: 'x', applies_to: { everyone: false, users: [randomUUID()], groups: [] } },
      { name: 'x', applies_to: { everyone: false, users: [], groups: [randomUUID()] } },
    ];
    for (const body of bodies) {
      const response = await create('ledger', body);
      expect(response.status, JSON.stringify(body)).toBe(422);
      expect(response.body.code).toBe('validation_failed');
    }
    const listed = await call(server, 'GET', '/api/admin/tables/ledger/policies', { auth: admin.auth });
    expect(listed.body.policies).toEqual([]);
  });

  it('deletes the policies of a table when it is unregistered (CASCADE)', async () => {
    await registerTable(server.ctx, 'doomed');
    const created = await create('doomed', { name: 'Doomed', applies_to: EVERYONE });
    expect(created.status).toBe(201);
    const unregistered = await call(server, 'DELETE', '/api/admin/registry/doomed', { auth: admin.auth });
    expect(unregistered.status).toBeLessThan(300);
    expect(await server.ctx.repos.policies.get(created.body.id)).toBeUndefined();
    const put = await call(server, 'PUT', `/api/admin/policies/${created.body.id}`, {
      auth: admin.auth,
      body: { enabled: false },
    });
    expect(put.status).toBe(404);
  });

  it('audits policy.create, policy.update and policy.delete with the whole object before and after', async () => {
    const created = await create('ledger', { name: 'Audited', applies_to: EVERYONE });
    const id = created.body.id as string;
    const updated = await call(server, 'PUT', `/api/admin/policies/${id}`, {
      auth: admin.auth,
      body: { name: 'Audited again' },
    });
    await call(server, 'DELETE', `/api/admin/policies/${id}`, { auth: admin.auth });
    const entry = async (action: string) => {
      const page = await server.ctx.repos.audit.list({ action, resource: id });
      expect(page.items).toHaveLength(1);
      return page.items[0]!;
    };
    const createEntry = await entry('policy.create');
    expect(createEntry.user_id).toBe(admin.id);
    expect(createEntry.params).toEqual({ before: null, after: created.body });
    expect((await entry('policy.update')).params).toEqual({ before: created.body, after: updated.body });
    expect((await entry('policy.delete')).params).toEqual({ before: updated.body, after: null });
  });
});

describe('user attributes (12 §1, §4)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  const put = (userId: string, attributes: unknown) =>
    call(server, 'PUT', `/api/admin/users/${userId}/attributes`, { auth: admin.auth, body: { attributes } });

  beforeAll(async () => {
    server = await withServer();
    [admin, analyst] = await Promise.all([
      createUser(server.ctx, 'admin'),
      createUser(server.ctx, 'analyst'),
    ]);
  });
  afterAll(async () => server.close());

  it('stores values exactly, drops duplicates in order, and shows the derived ones', async () => {
    const group = await server.ctx.repos.groups.create({ name: 'Sales / EU — ünï' });
    await server.ctx.repos.groups.addMember(group.id, analyst.id, admin.id);
    const composed = 'caf\u00e9';
    const decomposed = 'cafe\u0301';
    const attributes = {
      regions: ['EU', 'US', 'EU', 'eu'],
      // Look-alikes stay distinct: full-width letters, both Unicode forms, surrounding spaces.
      names: ['\uff25\uff35', composed, decomposed, ' EU ', "o'brien", "x') OR TRUE --"],
      empty: [],
    };
    const saved = await put(analyst.id, attributes);
    expect(saved.status).toBe(200);
    const expected = {
      attributes: {
        empty: [],
        names: ['\uff25\uff35', composed, decomposed, ' EU ', "o'brien", "x') OR TRUE --"],
        regions: ['EU', 'US', 'eu'],
      },
      derived: { email: analyst.email, user_id: analyst.id, groups: ['Sales / EU — ünï'] },
    };
    expect(saved.body).toEqual(expected);
    const read = await call(server, 'GET', `/api/admin/users/${analyst.id}/attributes`, { auth: admin.auth });
    expect(read.status).toBe(200);
    expect(read.body).toEqual(expected);
    expect(await server.ctx.repos.userAttributes.get(analyst.id)).toEqual(expected.attributes);
  });

  it('replaces every stored key', async () => {
    expect((await put(analyst.id, { a: ['1'], b: ['2'] })).status).toBe(200);
    const replaced = await put(analyst.id, { c: ['3'] });
    expect(replaced.body.attributes).toEqual({ c: ['3'] });
    expect((await put(analyst.id, {})).body.attributes).toEqual({});
  });

  it('refuses control characters, too many or too long values, bad and derived keys (422)', async () => {
    await put(analyst.id, { kept: ['yes'] });
    const refused: unknown[] = [
      { regions: ['EU\u0000'] },
      { regions: ['a\tb'] },
      { regions: ['line\nbreak'] },
      { regions: ['bell\u0007'] },
      { regions: ['next\u0085line'] },
      { regions: ['del\u007f'] },
      { regions: Array.from({ length: 51 }, (_, i) => `v${i}`) },
      { regions: ['x'.repeat(201)] },
      { regions: [''] },
      { regions: 'EU' },
      { regions: [1] },
      { Regions: ['EU'] },
      { '1regions': ['EU'] },
      { 'region-code': ['EU'] },
      { ['k'.repeat(41)]: ['EU'] },
      { email: ['someone@example.com'] },
      { user_id: [admin.id] },
      { groups: ['admins'] },
    ];
    for (const attributes of refused) {
      const response = await put(analyst.id, attributes);
      expect(response.status, JSON.stringify(attributes)).toBe(422);
      expect(response.body.code).toBe('validation_failed');
    }
    const extra = await call(server, 'PUT', `/api/admin/users/${analyst.id}/attributes`, {
      auth: admin.auth,
      body: { attributes: {}, derived: {} },
    });
    expect(extra.status).toBe(422);
    expect(await server.ctx.repos.userAttributes.get(analyst.id)).toEqual({ kept: ['yes'] });
    const edges = await put(analyst.id, {
      ['k'.repeat(40)]: Array.from({ length: 50 }, (_, i) => `${i}`.padEnd(200, '\u00e9')),
    });
    expect(edges.status).toBe(200);
    expect(edges.body.attributes['k'.repeat(40)]).toHaveLength(50);
  });

  it('answers 404 for an unknown or malformed user id', async () => {
    for (const id of [randomUUID(), 'nobody']) {
      expect(
        (await call(server, 'GET', `/api/admin/users/${id}/attributes`, { auth: admin.auth })).status,
      ).toBe(404);
      expect((await put(id, { a: ['b'] })).status).toBe(404);
    }
  });

  it('shows the stored attributes in /auth/me', async () => {
    await put(analyst.id, { regions: ['EU', 'APAC'] });
    const me = await call(server, 'GET', '/auth/me', { auth: analyst.auth });
    expect(me.status).toBe(200);
    expect(me.body.attributes).toEqual({ regions: ['EU', 'APAC'] });
    const adminMe = await call(server, 'GET', '/auth/me', { auth: admin.auth });
    expect(adminMe.body.attributes).toEqual({});
  });

  it('audits user.attributes with the stored attributes before and after', async () => {
    await put(analyst.id, { before_key: ['old'] });
    await put(analyst.id, { after_key: ['new', 'new'] });
    const page = await server.ctx.repos.audit.list({ action: 'user.attributes', resource: analyst.id });
    expect(page.items[0]?.params).toEqual({ before: { before_key: ['old'] }, after: { after_key: ['new'] } });
  });
});

describe('row policies: who may call the admin API', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await withServer();
  });
  afterAll(async () => server.close());

  it('refuses every role but admin with 403 on every route, and anonymous callers with 401', async () => {
    const admin = await createUser(server.ctx, 'admin');
    await registerTable(server.ctx, 'orders');
    const policy = await server.ctx.repos.policies.create({
      table_id: 'orders',
      name: 'p',
      description: '',
      applies_to: EVERYONE,
      row_filter: null,
      masked_columns: [],
      enabled: true,
      created_by: admin.id,
    });
    const routes: [string, string, unknown?][] = [
      ['GET', '/api/admin/tables/orders/policies'],
      ['POST', '/api/admin/tables/orders/policies', { name: 'q', applies_to: EVERYONE }],
      ['PUT', `/api/admin/policies/${policy.id}`, { enabled: false }],
      ['DELETE', `/api/admin/policies/${policy.id}`],
      ['GET', `/api/admin/users/${admin.id}/attributes`],
      ['PUT', `/api/admin/users/${admin.id}/attributes`, { attributes: { a: ['b'] } }],
    ];
    for (const role of ['viewer', 'analyst', 'km_admin'] as const) {
      const user = await createUser(server.ctx, role);
      for (const [method, path, body] of routes) {
        const response = await call(server, method, path, { auth: user.auth, body });
        expect(response.status, `${role} ${method} ${path}`).toBe(403);
        expect(response.body.code).toBe('forbidden_role');
      }
    }
    for (const [method, path, body] of routes)
      expect((await call(server, method, path, { body })).status, `${method} ${path}`).toBe(401);
    expect(await server.ctx.repos.policies.get(policy.id)).toEqual(policy);
    expect(await server.ctx.repos.userAttributes.get(admin.id)).toEqual({});
  });
});

describe('loadEffectiveViews: who and what is never bound (12 §1)', () => {
  let server: TestServer;
  let admin: TestUser;
  let analyst: TestUser;

  beforeAll(async () => {
    server = await withServer();
    ({ admin, analyst } = await setupShop(server));
    await server.ctx.repos.policies.create({
      table_id: 'orders',
      name: 'Nobody',
      description: '',
      applies_to: EVERYONE,
      row_filter: null,
      masked_columns: [],
      enabled: false,
      created_by: admin.id,
    });
  });
  afterAll(async () => server.close());

  const principal = async (userId: string) => {
    const user = await server.ctx.repos.users.getById(userId);
    const groups = await server.ctx.repos.groups.listGroupsOfUser(userId);
    return {
      id: userId,
      email: user!.email,
      role: user!.role,
      active: true,
      is_service: false,
      groups: groups.map(({ id, name }) => ({ id, name })),
    };
  };

  it('gives admins an empty map, bound tables included', async () => {
    const views = await loadEffectiveViews(policyLoadDeps(server.ctx), await principal(admin.id), [
      'orders',
      'customers',
    ]);
    expect(views.size).toBe(0);
  });

  it('leaves unbound tables out of the map', async () => {
    const deps = policyLoadDeps(server.ctx);
    const who = await principal(analyst.id);
    expect((await loadEffectiveViews(deps, who, ['customers', 'secret_salaries'])).size).toBe(0);
    expect((await loadEffectiveViews(deps, who, [])).size).toBe(0);
  });

  it('answers access-check with policy null for an unbound table or an admin', async () => {
    const unbound = await call(
      server,
      'GET',
      `/api/admin/access-check?user_id=${analyst.id}&table_id=customers`,
      { auth: admin.auth },
    );
    expect(unbound.status).toBe(200);
    expect(unbound.body).toEqual({ allowed: false, reason: 'no_grant', via: null, policy: null });
    const asAdmin = await call(server, 'GET', `/api/admin/access-check?user_id=${admin.id}&table_id=orders`, {
      auth: admin.auth,
    });
    expect(asAdmin.body).toEqual({ allowed: true, reason: 'admin', via: null, policy: null });
  });

  it('reads the columns of a published table from its files', async () => {
    const columns = await server.ctx.policyColumns.columnsOf('orders');
    expect(columns.map((c) => c.name)).toEqual(['order_id', 'customer_id', 'amount', 'status']);
    expect(columns.find((c) => c.name === 'status')?.type).toBe('VARCHAR');
    expect(await server.ctx.policyColumns.columnsOf('nowhere')).toEqual([]);
  });
});

describe('the policy salt at startup (12 §6)', () => {
  it('generates state/policy-salt (0600) for a server and never shows it', async () => {
    const server = await withServer();
    try {
      const file = join(server.dataDir, 'state', 'policy-salt');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const salt = (await readFile(file, 'utf8')).trim();
      expect(server.ctx.policySalt.salt).toBe(salt);
      expect(server.ctx.policySalt.saltVersion).toMatch(/^[0-9a-f]{16}$/);
      const openapi = await call(server, 'GET', '/openapi.json');
      expect(openapi.text).not.toContain(salt);
    } finally {
      await server.close();
    }
  });

  it('refuses to start with an AGNES_POLICY_SALT shorter than 32 characters', async () => {
    const dataDir = await tempDir('agnes-salt-server-');
    try {
      await expect(
        withServer({ dataDir: dataDir.path, env: { AGNES_POLICY_SALT: 'too-short' } }),
      ).rejects.toThrow('AGNES_POLICY_SALT: must be at least 32 characters long');
      expect(existsSync(join(dataDir.path, 'state', 'policy-salt'))).toBe(false);
    } finally {
      await dataDir.cleanup();
    }
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, withServer } from '../../support/server.js';
import {
  openTestDatabase,
  skipWithoutPostgres,
  TEST_DIALECT,
  type TestDatabase,
} from './repositories/fresh-store.js';

/**
 * The real server with its state on this project's dialect: `DATABASE_URL` reaches the runtime,
 * which migrates an empty database, and requests authenticate, write and page through it.
 */
describe(`agnes serve with its state on ${TEST_DIALECT}`, () => {
  let database: TestDatabase | undefined;
  let server: TestServer | undefined;

  beforeEach(async (context) => {
    skipWithoutPostgres(context);
    database = await openTestDatabase({ migrated: false });
    server = await withServer({
      dataDir: database.dataDir,
      env: database.postgres ? { DATABASE_URL: database.postgres.url } : {},
    });
  });

  afterEach(async () => {
    await server?.close();
    await database?.remove();
  });

  it('authenticates, writes and lists users, and tells admins which store it runs on', async () => {
    const running = server!;
    const admin = await createUser(running.ctx, 'admin', { email: 'admin@example.com' });

    const created = await call(running, 'POST', '/api/users', {
      auth: admin.auth,
      body: { email: 'Bea@Example.com', role: 'viewer', send_invite: false },
    });
    const duplicate = await call(running, 'POST', '/api/users', {
      auth: admin.auth,
      body: { email: 'BEA@example.com', send_invite: false },
    });
    const listed = await call(running, 'GET', '/api/users?active=true&per_page=1&page=2', {
      auth: admin.auth,
    });
    const health = await call(running, 'GET', '/api/health/detailed', { auth: admin.auth });

    expect(created.status).toBe(201);
    expect(duplicate.status).toBe(409);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ total: 2, page: 2, per_page: 1 });
    expect(listed.body.users).toEqual([
      expect.objectContaining({ email: 'bea@example.com', role: 'viewer', active: true }),
    ]);
    expect(health.body.services.state_db).toEqual({ status: 'healthy' });
    expect(health.body.services.state_store).toEqual({ dialect: TEST_DIALECT });
  });
});

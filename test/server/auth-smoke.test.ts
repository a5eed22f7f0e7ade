import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, createUser, type TestServer, withServer } from '../support/server.js';

describe('auth routes (smoke)', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await withServer();
  });
  afterEach(async () => server.close());

  it('bootstraps the first admin, signs in with the password and reads /auth/me', async () => {
    const boot = await call(server, 'POST', '/auth/bootstrap', {
      body: { email: 'Root@Example.com', password: 'a-long-unusual-passphrase' },
    });
    expect(boot.status).toBe(200);
    expect(boot.body).toMatchObject({ token_type: 'bearer', email: 'root@example.com', role: 'admin' });
    const again = await call(server, 'POST', '/auth/bootstrap', {
      body: { email: 'x@example.com', password: 'a-long-unusual-passphrase' },
    });
    expect(again.status).toBe(403);
    expect(again.body.code).toBe('bootstrap_disabled');
    const login = await call(server, 'POST', '/auth/token', {
      body: { email: 'root@example.com', password: 'a-long-unusual-passphrase' },
    });
    expect(login.status).toBe(200);
    const me = await call(server, 'GET', '/auth/me', { auth: `Bearer ${login.body.access_token}` });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({
      email: 'root@example.com',
      role: 'admin',
      auth: { method: 'jwt', via: 'bearer' },
    });
    expect(me.headers.get('cache-control')).toBe('no-store');
  });

  it('answers one 401 for unknown emails and wrong passwords, and accepts PATs', async () => {
    const user = await createUser(server.ctx, 'analyst');
    const wrong = await call(server, 'POST', '/auth/token', {
      body: { email: user.email, password: 'nope-nope-nope' },
    });
    const unknown = await call(server, 'POST', '/auth/token', {
      body: { email: 'ghost@example.com', password: 'nope-nope-nope' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.detail).toBe(unknown.body.detail);
    const me = await call(server, 'GET', '/auth/me', { auth: user.auth });
    expect(me.body).toMatchObject({ id: user.id, auth: { method: 'pat' } });
    const logout = await call(server, 'POST', '/auth/logout', { auth: user.auth });
    expect(logout.status).toBe(200);
    expect((await call(server, 'GET', '/auth/me', { auth: user.auth })).status).toBe(401);
  });

  it('rejects unknown fields with 422 and serves the OpenAPI document with auth labels', async () => {
    const bad = await call(server, 'POST', '/auth/token', {
      body: { email: 'a@example.com', password: 'x', role: 'admin' },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('validation_failed');
    const doc = await call(server, 'GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(doc.body.paths['/auth/me'].get['x-agnes-auth']).toBe('user');
  });
});

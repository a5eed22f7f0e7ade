import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WsConnection } from '../../../src/contract/index.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

/** `POST /api/notifications/ws-check` (03 §17): the gateway's re-check of every open socket. */
describe('POST /api/notifications/ws-check', () => {
  let server: TestServer;
  let service: TestUser;
  const hour = 3_600_000;

  beforeAll(async () => {
    server = await withServer();
    service = await createUser(server.ctx, 'viewer', { service: true });
  });
  afterAll(async () => server.close());

  async function check(connections: WsConnection[], auth = service.auth) {
    return call(server, 'POST', '/api/notifications/ws-check', { auth, body: { connections } });
  }

  function jwt(user: TestUser, jti: string, overrides: Partial<WsConnection> = {}): WsConnection {
    return {
      user_id: user.id,
      credential_kind: 'jwt',
      credential_id: jti,
      issued_at: new Date(Date.now() - hour).toISOString(),
      expires_at: new Date(Date.now() + hour).toISOString(),
      ...overrides,
    };
  }

  it('answers one flag per connection, in order, judging user, revocation, expiry and sessions_valid_after', async () => {
    const alice = await createUser(server.ctx, 'analyst');
    const gone = await createUser(server.ctx, 'viewer', { active: false });
    const cut = await createUser(server.ctx, 'viewer');
    await server.ctx.repos.users.update(cut.id, {
      sessions_valid_after: new Date(Date.now() - 60_000).toISOString(),
    });
    const revokedJti = 'a'.repeat(32);
    await server.ctx.repos.tokens.revokeJti(revokedJti, alice.id, new Date(Date.now() + hour).toISOString());
    const pats = await server.ctx.repos.tokens.listByUser(alice.id);
    const pat = pats[0]!;
    const created = await call(server, 'POST', '/api/tokens', { auth: alice.auth, body: { name: 'gone' } });
    await call(server, 'DELETE', `/api/tokens/${created.body.id}`, { auth: alice.auth });
    const other = await createUser(server.ctx, 'viewer');
    const patOf = (user: TestUser, id: string): WsConnection => ({
      user_id: user.id,
      credential_kind: 'pat',
      credential_id: id,
      issued_at: new Date().toISOString(),
      expires_at: null,
    });

    const response = await check([
      jwt(alice, 'b'.repeat(32)),
      jwt(alice, revokedJti),
      jwt(alice, 'c'.repeat(32), { expires_at: new Date(Date.now() - 1000).toISOString() }),
      jwt(gone, 'd'.repeat(32)),
      jwt(cut, 'e'.repeat(32)),
      jwt(cut, 'f'.repeat(32), { issued_at: new Date().toISOString() }),
      { ...jwt(alice, revokedJti), credential_kind: 'ws_ticket' },
      { ...jwt(alice, '1'.repeat(32)), credential_kind: 'ws_ticket' },
      patOf(alice, pat.id),
      patOf(alice, created.body.id as string),
      patOf(other, pat.id),
      jwt({ ...alice, id: '00000000-0000-0000-0000-000000000000' }, '2'.repeat(32)),
    ]);
    expect(response.status).toBe(200);
    expect(response.body.valid).toEqual([
      true,
      false,
      false,
      false,
      false,
      true,
      false,
      true,
      true,
      false,
      false,
      false,
    ]);
  });

  it('is for service accounts only, and refuses unknown fields and oversize batches', async () => {
    const admin = await createUser(server.ctx, 'admin');
    expect((await check([], admin.auth)).status).toBe(403);
    expect((await check([])).body).toEqual({ valid: [] });
    const extra = await call(server, 'POST', '/api/notifications/ws-check', {
      auth: service.auth,
      body: { connections: [{ ...jwt(admin, 'a'.repeat(32)), role: 'admin' }] },
    });
    expect(extra.status).toBe(422);
    const many = Array.from({ length: 10_001 }, (_, i) => jwt(admin, i.toString(16).padStart(32, '0')));
    expect((await check(many)).status).toBe(422);
  });

  it('checks a full batch of 10,000 connections in one call', async () => {
    const user = await createUser(server.ctx, 'viewer');
    const many = Array.from({ length: 10_000 }, (_, i) => jwt(user, i.toString(16).padStart(32, '0')));
    const response = await check(many);
    expect(response.status).toBe(200);
    expect(response.body.valid).toHaveLength(10_000);
    expect(response.body.valid.every(Boolean)).toBe(true);
  });
});

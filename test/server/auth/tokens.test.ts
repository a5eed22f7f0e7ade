import { generateKeyPair, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateDb } from '../../../src/core/state/db.js';
import { createRepositories } from '../../../src/core/state/repositories/index.js';
import { generatePat, sha256Hex } from '../../../src/server/auth/pat.js';
import { call, createUser, TEST_JWT_SECRET, type TestServer, withServer } from '../../support/server.js';
import { b64url, cookieHeader, expectUnauthorized, loginJwt, mintJwt, sessionClaims } from './helpers.js';

/** S1: every way a bearer credential can be wrong is one 401 in the error format. */

const OTHER_SECRET = 'another-secret-that-is-long-enough-0123456789';
const PREVIOUS_SECRET = 'previous-secret-rotated-out-0123456789-abcdef';

const bearer = (token: string) => `Bearer ${token}`;

describe('session JWTs and PATs (S1)', () => {
  let server: TestServer;

  beforeAll(async () => {
    // Many logins from one address: lift the per-IP login limit (tested in browser-facing).
    server = await withServer({
      config: { auth: { rate_limits: { login: { max: 1000, window_seconds: 60 } } } },
      env: { JWT_SECRET_KEY_PREVIOUS: PREVIOUS_SECRET },
    });
  });
  afterAll(async () => server.close());

  describe('the Authorization header', () => {
    it('answers 401 with WWW-Authenticate and the error format when there is no credential', async () => {
      const reply = await call(server, 'GET', '/auth/me');
      expectUnauthorized(reply);
    });

    it.each([
      ['a Basic scheme', 'Basic dXNlcjpwYXNz'],
      ['Bearer with nothing', 'Bearer'],
      ['Bearer with two values', 'Bearer a b'],
      ['a token without a scheme', 'abc.def.ghi'],
      ['an unknown scheme', 'Token abc'],
    ])('refuses %s', async (_name, header) => {
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: header }));
    });

    it('accepts the scheme in any case', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const token = await loginJwt(server, user);
      for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
        const reply = await call(server, 'GET', '/auth/me', { auth: `${scheme} ${token}` });
        expect(reply.status).toBe(200);
        expect(reply.body.id).toBe(user.id);
      }
    });

    it('does not fall back to the cookie when a header is present but unusable', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const token = await loginJwt(server, user);
      const withCookie = { cookie: cookieHeader({ access_token: token }) };
      const cookieOnly = await call(server, 'GET', '/auth/me', { headers: withCookie });
      expect(cookieOnly.status).toBe(200);
      expect(cookieOnly.body.auth.via).toBe('cookie');
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: 'Basic x', headers: withCookie }));
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: 'Bearer', headers: withCookie }));
    });
  });

  describe('JWT verification', () => {
    it('accepts a well-formed token signed with the current secret (control)', async () => {
      const user = await createUser(server.ctx, 'viewer');
      const token = await mintJwt(sessionClaims(user.id), TEST_JWT_SECRET);
      const reply = await call(server, 'GET', '/auth/me', { auth: bearer(token) });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ id: user.id, auth: { method: 'jwt', via: 'bearer' } });
    });

    it('refuses a token signed with another key', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const token = await mintJwt(sessionClaims(user.id), OTHER_SECRET);
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(token) }));
    });

    it('refuses alg none', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const token = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(sessionClaims(user.id))}.`;
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(token) }));
      // The same with a signature part that is not empty.
      const withSig = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(sessionClaims(user.id))}.AAAA`;
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(withSig) }));
    });

    it('refuses HS512 and HS384 even with the right secret', async () => {
      const user = await createUser(server.ctx, 'analyst');
      for (const alg of ['HS512', 'HS384']) {
        const token = await mintJwt(sessionClaims(user.id), TEST_JWT_SECRET, alg);
        expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(token) }));
      }
    });

    it('refuses RS256 and ES256 tokens', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const rsa = await generateKeyPair('RS256');
      const ec = await generateKeyPair('ES256');
      for (const [alg, key] of [
        ['RS256', rsa.privateKey],
        ['ES256', ec.privateKey],
      ] as const) {
        const token = await mintJwt(sessionClaims(user.id), key, alg);
        expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(token) }));
      }
    });

    it('refuses an expired token beyond the 30 s tolerance and accepts one within it', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const now = Math.floor(Date.now() / 1000);
      const expired = await mintJwt(
        sessionClaims(user.id, { iat: now - 7200, exp: now - 60 }),
        TEST_JWT_SECRET,
      );
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(expired) }));
      const justExpired = await mintJwt(
        sessionClaims(user.id, { iat: now - 7200, exp: now - 5 }),
        TEST_JWT_SECRET,
      );
      expect((await call(server, 'GET', '/auth/me', { auth: bearer(justExpired) })).status).toBe(200);
    });

    it('checks only exp, iss and aud for time and origin: an iat in the future is accepted (04 §2)', async () => {
      // Decision per 04 §2: verification covers signature, alg, iss, aud, exp and the presence of
      // sub/jti/iat. A future iat can only come from the secret's holder, who can mint anything.
      const user = await createUser(server.ctx, 'analyst');
      const now = Math.floor(Date.now() / 1000);
      const future = await mintJwt(
        sessionClaims(user.id, { iat: now + 3600, exp: now + 7200 }),
        TEST_JWT_SECRET,
      );
      expect((await call(server, 'GET', '/auth/me', { auth: bearer(future) })).status).toBe(200);
    });

    it('refuses a payload edited without re-signing', async () => {
      const victim = await createUser(server.ctx, 'analyst');
      const admin = await createUser(server.ctx, 'admin');
      const token = await loginJwt(server, victim);
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8'));
      expect(claims.sub).toBe(victim.id);
      const forged = `${header}.${b64url({ ...claims, sub: admin.id })}.${signature}`;
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(forged) }));
      const longer = `${header}.${b64url({ ...claims, exp: claims.exp + 86_400 })}.${signature}`;
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(longer) }));
      // The untouched token still works: the refusals are about the edits.
      expect((await call(server, 'GET', '/auth/me', { auth: bearer(token) })).status).toBe(200);
    });

    it.each([
      ['a wrong issuer', { iss: 'evil' }],
      ['no issuer', { iss: undefined }],
      ['a wrong audience', { aud: 'someone-else' }],
      ['no audience', { aud: undefined }],
      ['no jti', { jti: undefined }],
      ['a jti that is not 32 hex characters', { jti: 'not-a-random-id' }],
      ['no sub', { sub: undefined }],
      ['no iat', { iat: undefined }],
      ['no exp', { exp: undefined }],
      ['a sub of an unknown user', { sub: '00000000-0000-4000-8000-000000000000' }],
    ])('refuses a correctly signed token with %s', async (_name, overrides) => {
      const user = await createUser(server.ctx, 'analyst');
      const token = await mintJwt(sessionClaims(user.id, overrides), TEST_JWT_SECRET);
      expectUnauthorized(await call(server, 'POST', '/auth/logout', { auth: bearer(token) }));
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(token) }));
    });

    it('refuses a token with the WebSocket-ticket audience outside /auth/me', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const now = Math.floor(Date.now() / 1000);
      const ticket = await mintJwt(
        sessionClaims(user.id, { aud: 'agnes-ws', exp: now + 60 }),
        TEST_JWT_SECRET,
      );
      expectUnauthorized(await call(server, 'POST', '/auth/logout', { auth: bearer(ticket) }));
      expectUnauthorized(
        await call(server, 'POST', '/auth/password/change', {
          auth: bearer(ticket),
          body: { current_password: user.password, new_password: 'a-brand-new-passphrase-42' },
        }),
      );
    });

    it('issues HS256 tokens with sub, jti, iat, exp, iss and aud only (no role, no email)', async () => {
      const user = await createUser(server.ctx, 'admin');
      const token = await loginJwt(server, user);
      const [header, payload] = token
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
      expect(header).toEqual({ alg: 'HS256', typ: 'JWT' });
      expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub']);
      expect(payload).toMatchObject({ sub: user.id, iss: 'agnes', aud: 'agnes' });
      expect(payload.jti).toMatch(/^[0-9a-f]{32}$/);
      expect(payload.exp - payload.iat).toBe(24 * 3600);
    });

    it('answers every JWT failure with one message', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const replies = await Promise.all(
        [
          mintJwt(sessionClaims(user.id), OTHER_SECRET),
          mintJwt(sessionClaims(user.id, { iss: 'evil' }), TEST_JWT_SECRET),
          mintJwt(sessionClaims(user.id, { sub: '00000000-0000-4000-8000-000000000000' }), TEST_JWT_SECRET),
        ].map(async (token) => call(server, 'GET', '/auth/me', { auth: bearer(await token) })),
      );
      for (const reply of replies) expectUnauthorized(reply);
      const bodies = replies.map((r) => ({ detail: r.body.detail, code: r.body.code }));
      expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
      expect(bodies[0]).toEqual({ detail: expect.any(String), code: 'invalid_token' });
    });

    it('accepts JWT_SECRET_KEY_PREVIOUS for verification only', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const old = await mintJwt(sessionClaims(user.id), PREVIOUS_SECRET);
      const me = await call(server, 'GET', '/auth/me', { auth: bearer(old) });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(user.id);
      // New tokens are signed with the current secret, not the previous one.
      const fresh = await loginJwt(server, user);
      await expect(jwtVerify(fresh, new TextEncoder().encode(TEST_JWT_SECRET))).resolves.toBeTruthy();
      await expect(jwtVerify(fresh, new TextEncoder().encode(PREVIOUS_SECRET))).rejects.toThrow();
      // An expired token signed with the previous key stays refused.
      const now = Math.floor(Date.now() / 1000);
      const expiredOld = await mintJwt(
        sessionClaims(user.id, { iat: now - 7200, exp: now - 3600 }),
        PREVIOUS_SECRET,
      );
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(expiredOld) }));
    });

    it('refuses a previous-key token when no previous key is configured', async () => {
      const plain = await withServer();
      try {
        const user = await createUser(plain.ctx, 'analyst');
        const old = await mintJwt(sessionClaims(user.id), PREVIOUS_SECRET);
        expectUnauthorized(await call(plain, 'GET', '/auth/me', { auth: bearer(old) }));
      } finally {
        await plain.close();
      }
    });
  });

  describe('claims grant nothing; the user row decides', () => {
    it('ignores a role claim: an analyst token saying admin is still an analyst', async () => {
      const analyst = await createUser(server.ctx, 'analyst');
      const token = await mintJwt(
        sessionClaims(analyst.id, { role: 'admin', email: 'root@example.com', is_service: true }),
        TEST_JWT_SECRET,
      );
      const me = await call(server, 'GET', '/auth/me', { auth: bearer(token) });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({
        id: analyst.id,
        role: 'analyst',
        email: analyst.email,
        is_service: false,
      });

      // A second server with one admin-only route: the guard of 04 §5 sees the same forged claims.
      const guarded = await withServer({
        extend: (app) =>
          app.get('/test/admin-only', { config: { auth: 'admin' } }, async () => ({ ok: true })),
      });
      try {
        const forged = await createUser(guarded.ctx, 'analyst');
        const claimsAdmin = await mintJwt(
          sessionClaims(forged.id, { role: 'admin', email: 'root@example.com', is_service: true }),
          TEST_JWT_SECRET,
        );
        const denied = await call(guarded, 'GET', '/test/admin-only', { auth: bearer(claimsAdmin) });
        expect(denied.status).toBe(403);
        expect(denied.body).toMatchObject({
          detail: 'requires role admin or higher',
          code: 'forbidden_role',
        });
        const admin = await createUser(guarded.ctx, 'admin');
        const allowed = await call(guarded, 'GET', '/test/admin-only', {
          auth: bearer(await mintJwt(sessionClaims(admin.id), TEST_JWT_SECRET)),
        });
        expect(allowed.status).toBe(200);
      } finally {
        await guarded.close();
      }
    });

    it('takes the role from the database on every request', async () => {
      const user = await createUser(server.ctx, 'viewer');
      const token = await loginJwt(server, user);
      expect((await call(server, 'GET', '/auth/me', { auth: bearer(token) })).body.role).toBe('viewer');
      await server.ctx.repos.users.update(user.id, { role: 'km_admin' });
      expect((await call(server, 'GET', '/auth/me', { auth: bearer(token) })).body.role).toBe('km_admin');
    });

    it('refuses the token of a deleted user', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const token = await loginJwt(server, user);
      expect(await server.ctx.repos.users.delete(user.id)).toBe(true);
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(token) }));
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: user.auth }));
    });

    it('refuses the JWT and the PAT of a deactivated user, and accepts them again after reactivation', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const token = await loginJwt(server, user);
      await server.ctx.repos.users.update(user.id, { active: false });
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(token) }));
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: user.auth }));
      await server.ctx.repos.users.update(user.id, { active: true });
      expect((await call(server, 'GET', '/auth/me', { auth: user.auth })).status).toBe(200);
    });
  });

  describe('principals cached between requests', () => {
    /** Another process's writes: a second connection to the same state store, as `agnes users` opens. */
    async function otherProcess<T>(
      work: (repos: ReturnType<typeof createRepositories>) => Promise<T>,
    ): Promise<T> {
      const db = openStateDb(server.dataDir);
      try {
        return await work(createRepositories(db));
      } finally {
        await db.destroy();
      }
    }

    it('sees at once a deactivation, a PAT revocation and a group change made by another process', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const token = await loginJwt(server, user);
      const me = (auth: string) => call(server, 'GET', '/auth/me', { auth });
      expect((await me(user.auth)).body.groups).toEqual([]);
      expect((await me(bearer(token))).status).toBe(200);

      const group = await otherProcess((repos) => repos.groups.create({ name: 'finance', description: '' }));
      await otherProcess((repos) => repos.groups.addMember(group.id, user.id, null));
      expect((await me(user.auth)).body.groups).toEqual([expect.objectContaining({ name: 'finance' })]);
      await otherProcess((repos) => repos.groups.update(group.id, { name: 'finance-eu' }));
      expect((await me(bearer(token))).body.groups).toEqual([
        expect.objectContaining({ name: 'finance-eu' }),
      ]);

      await otherProcess((repos) => repos.users.update(user.id, { active: false }));
      expectUnauthorized(await me(user.auth));
      expectUnauthorized(await me(bearer(token)));
      await otherProcess((repos) => repos.users.update(user.id, { active: true }));
      expect((await me(user.auth)).status).toBe(200);

      const [pat] = await server.ctx.repos.tokens.listByUser(user.id);
      await otherProcess((repos) => repos.tokens.revoke(pat!.id, user.id));
      expectUnauthorized(await me(user.auth));
      expect((await me(bearer(token))).status).toBe(200);
    });

    it('shows at once attributes set by another process, for a PAT and a session alike', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const token = await loginJwt(server, user);
      const me = (auth: string) => call(server, 'GET', '/auth/me', { auth });
      expect((await me(user.auth)).body.attributes).toEqual({});
      expect((await me(bearer(token))).body.attributes).toEqual({});
      await otherProcess((repos) => repos.userAttributes.replace(user.id, { region: ['eu', 'us'] }));
      expect((await me(user.auth)).body.attributes).toEqual({ region: ['eu', 'us'] });
      expect((await me(bearer(token))).body.attributes).toEqual({ region: ['eu', 'us'] });
      await otherProcess((repos) => repos.userAttributes.replace(user.id, {}));
      expect((await me(user.auth)).body.attributes).toEqual({});
    });

    it('does not reload principals when only a token’s last use is written', async () => {
      const before = await server.ctx.repos.revisions.principals();
      const user = await createUser(server.ctx, 'analyst');
      const created = await server.ctx.repos.revisions.principals();
      expect(created).toBeGreaterThan(before);
      const [pat] = await server.ctx.repos.tokens.listByUser(user.id);
      await server.ctx.repos.tokens.touchLastUsed(pat!.id, '127.0.0.1');
      expect(await server.ctx.repos.revisions.principals()).toBe(created);
    });
  });

  describe('revocation', () => {
    it('refuses a JWT after its own logout; other sessions of the user go on', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const first = await loginJwt(server, user);
      const second = await loginJwt(server, user);
      const out = await call(server, 'POST', '/auth/logout', { auth: bearer(first) });
      expect(out.status).toBe(200);
      expect(out.body).toEqual({ status: 'logged_out' });
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(first) }));
      expectUnauthorized(await call(server, 'POST', '/auth/logout', { auth: bearer(first) }));
      expect((await call(server, 'GET', '/auth/me', { auth: bearer(second) })).status).toBe(200);
      const jti = JSON.parse(Buffer.from(first.split('.')[1]!, 'base64url').toString()).jti;
      expect(await server.ctx.repos.tokens.isRevoked(jti)).toBe(true);
    });

    it('logout with all: true ends every JWT issued before it, and a new login works', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const first = await loginJwt(server, user);
      const second = await loginJwt(server, user);
      const out = await call(server, 'POST', '/auth/logout', { auth: bearer(first), body: { all: true } });
      expect(out.status).toBe(200);
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(second) }));
      const row = await server.ctx.repos.users.getById(user.id);
      expect(row?.sessions_valid_after).toBeTruthy();
      // Signing in again right away gives a working session.
      const third = await loginJwt(server, user);
      const me = await call(server, 'GET', '/auth/me', { auth: bearer(third) });
      expect(me.status).toBe(200);
    });

    it('refuses a JWT whose iat is before sessions_valid_after', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const now = Math.floor(Date.now() / 1000);
      await server.ctx.repos.users.update(user.id, {
        sessions_valid_after: new Date((now - 100) * 1000).toISOString(),
      });
      const before = await mintJwt(sessionClaims(user.id, { iat: now - 101 }), TEST_JWT_SECRET);
      const at = await mintJwt(sessionClaims(user.id, { iat: now - 100 }), TEST_JWT_SECRET);
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(before) }));
      expect((await call(server, 'GET', '/auth/me', { auth: bearer(at) })).status).toBe(200);
    });

    it('a password change kills older JWTs; the returned token works', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const old = await loginJwt(server, user);
      const other = await loginJwt(server, user);
      const changed = await call(server, 'POST', '/auth/password/change', {
        auth: bearer(old),
        body: { current_password: user.password, new_password: 'a-brand-new-passphrase-42' },
      });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ token_type: 'bearer', user_id: user.id });
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(old) }));
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(other) }));
      const me = await call(server, 'GET', '/auth/me', { auth: bearer(changed.body.access_token) });
      expect(me.status).toBe(200);
    });
  });

  describe('personal access tokens', () => {
    it('accepts a PAT and records when and from where it was used', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const row = await server.ctx.repos.tokens.findByHash(sha256Hex(user.pat));
      expect(row?.last_used_at).toBeNull();
      const me = await call(server, 'GET', '/auth/me', { auth: user.auth });
      expect(me.status).toBe(200);
      expect(me.body.auth).toMatchObject({ method: 'pat', via: 'bearer', token_id: row!.id });
      const used = await server.ctx.repos.tokens.findByHash(sha256Hex(user.pat));
      expect(used?.last_used_at).toBeTruthy();
      expect(used?.last_used_ip).toBe('127.0.0.1');
    });

    it('records the use at most once per 60 s', async () => {
      const user = await createUser(server.ctx, 'analyst');
      expect((await call(server, 'GET', '/auth/me', { auth: user.auth })).status).toBe(200);
      const first = (await server.ctx.repos.tokens.findByHash(sha256Hex(user.pat)))?.last_used_at;
      expect(first).toBeTruthy();
      // Mark the recorded use as long ago: a second call within the interval must not rewrite it.
      const marker = new Date(Date.now() - 30_000).toISOString();
      await server.ctx.db
        .updateTable('personal_access_tokens')
        .set({ last_used_at: marker })
        .where('token_hash', '=', sha256Hex(user.pat))
        .execute();
      expect((await call(server, 'GET', '/auth/me', { auth: user.auth })).status).toBe(200);
      expect((await server.ctx.repos.tokens.findByHash(sha256Hex(user.pat)))?.last_used_at).toBe(marker);
    });

    it('refuses a revoked PAT', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const row = await server.ctx.repos.tokens.findByHash(sha256Hex(user.pat));
      expect(await server.ctx.repos.tokens.revoke(row!.id, user.id)).toBe(true);
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: user.auth }));
    });

    it('refuses a PAT after logout with that PAT', async () => {
      const user = await createUser(server.ctx, 'analyst');
      expect((await call(server, 'POST', '/auth/logout', { auth: user.auth })).status).toBe(200);
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: user.auth }));
      const row = await server.ctx.repos.tokens.findByHash(sha256Hex(user.pat));
      expect(row?.revoked_at).toBeTruthy();
    });

    it('refuses an expired PAT', async () => {
      const user = await createUser(server.ctx, 'analyst');
      await server.ctx.db
        .updateTable('personal_access_tokens')
        .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
        .where('token_hash', '=', sha256Hex(user.pat))
        .execute();
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: user.auth }));
    });

    it('refuses unknown and malformed PATs', async () => {
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer(generatePat().token) }));
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer('agnes_pat_short') }));
      expectUnauthorized(await call(server, 'GET', '/auth/me', { auth: bearer('agnes_pat_') }));
    });

    it('refuses a PAT in the access_token cookie', async () => {
      const user = await createUser(server.ctx, 'analyst');
      const reply = await call(server, 'GET', '/auth/me', {
        headers: { cookie: cookieHeader({ access_token: user.pat }) },
      });
      expectUnauthorized(reply);
      // The same PAT is fine as a Bearer header.
      expect((await call(server, 'GET', '/auth/me', { auth: user.auth })).status).toBe(200);
    });

    it('refuses a garbage cookie with a 401, not a 500', async () => {
      const reply = await call(server, 'GET', '/auth/me', {
        headers: { cookie: cookieHeader({ access_token: 'garbage.garbage.garbage' }) },
      });
      expectUnauthorized(reply);
    });
  });
});

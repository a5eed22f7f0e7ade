import { describe, expect, it } from 'vitest';
import { createUser, DAY, MINUTE, useFreshStore } from './fresh-store.js';

describe('tokens repository', () => {
  const store = useFreshStore();

  describe('personal access tokens', () => {
    it('creates a token and finds it by its hash', async () => {
      const { repos, clock } = store();
      const user = await createUser(repos, 'a@x.io');

      const token = await repos.tokens.create({
        user_id: user.id,
        name: 'laptop',
        token_hash: 'hash-1',
        prefix: 'agnes_pat_abcd',
        expires_at: clock.isoIn(60 * MINUTE),
      });

      expect(token).toMatchObject({
        name: 'laptop',
        created_at: clock.iso(),
        revoked_at: null,
        last_used_at: null,
      });
      expect(await repos.tokens.findByHash('hash-1')).toEqual(token);
      expect(await repos.tokens.findByHash('unknown')).toBeUndefined();
    });

    it('refuses a token for an unknown user', async () => {
      const { repos } = store();

      const attempt = repos.tokens.create({
        user_id: 'nobody',
        name: 'n',
        token_hash: 'h',
        prefix: 'p',
        expires_at: null,
      });

      await expect(attempt).rejects.toMatchObject({ code: 'not_found' });
    });

    it('lists a user’s tokens newest first and revokes only the owner’s', async () => {
      const { repos, clock } = store();
      const owner = await createUser(repos, 'a@x.io');
      const other = await createUser(repos, 'b@x.io');
      const first = await repos.tokens.create({
        user_id: owner.id,
        name: 'one',
        token_hash: 'h1',
        prefix: 'p',
        expires_at: null,
      });
      clock.advance(MINUTE);
      await repos.tokens.create({
        user_id: owner.id,
        name: 'two',
        token_hash: 'h2',
        prefix: 'p',
        expires_at: null,
      });

      expect((await repos.tokens.listByUser(owner.id)).map((t) => t.name)).toEqual(['two', 'one']);
      expect(await repos.tokens.revoke(first.id, other.id)).toBe(false);
      expect(await repos.tokens.revoke(first.id, owner.id)).toBe(true);
      expect(await repos.tokens.revoke(first.id, owner.id)).toBe(false);
      expect((await repos.tokens.findByHash('h1'))?.revoked_at).toBe(clock.iso());
    });

    it('counts only tokens neither revoked nor expired as active', async () => {
      const { repos, clock } = store();
      const user = await createUser(repos, 'a@x.io');
      await repos.tokens.create({
        user_id: user.id,
        name: 'forever',
        token_hash: 'h1',
        prefix: 'p',
        expires_at: null,
      });
      await repos.tokens.create({
        user_id: user.id,
        name: 'short',
        token_hash: 'h2',
        prefix: 'p',
        expires_at: clock.isoIn(5 * MINUTE),
      });
      const revoked = await repos.tokens.create({
        user_id: user.id,
        name: 'r',
        token_hash: 'h3',
        prefix: 'p',
        expires_at: null,
      });
      await repos.tokens.revoke(revoked.id, user.id);

      expect(await repos.tokens.countActiveByUser(user.id)).toBe(2);
      clock.advance(5 * MINUTE);
      expect(await repos.tokens.countActiveByUser(user.id)).toBe(1);
    });

    it('records when and from where a token was last used', async () => {
      const { repos, clock } = store();
      const user = await createUser(repos, 'a@x.io');
      const token = await repos.tokens.create({
        user_id: user.id,
        name: 'n',
        token_hash: 'h',
        prefix: 'p',
        expires_at: null,
      });
      clock.advance(MINUTE);

      await repos.tokens.touchLastUsed(token.id, '10.0.0.7');

      expect(await repos.tokens.findByHash('h')).toMatchObject({
        last_used_at: clock.iso(),
        last_used_ip: '10.0.0.7',
      });
    });
  });

  describe('revoked JWT ids', () => {
    it('revokes idempotently and prunes revocations of expired tokens together with expired magic links', async () => {
      const { repos, clock } = store();
      const user = await createUser(repos, 'a@x.io');
      await repos.tokens.revokeJti('jti-short', user.id, clock.isoIn(10 * MINUTE));
      await repos.tokens.revokeJti('jti-short', user.id, clock.isoIn(10 * MINUTE));
      await repos.tokens.revokeJti('jti-long', user.id, clock.isoIn(DAY));
      await repos.tokens.createMagicLink({
        token_hash: 'link',
        user_id: user.id,
        expires_at: clock.isoIn(15 * MINUTE),
      });

      expect(await repos.tokens.isRevoked('jti-short')).toBe(true);
      expect(await repos.tokens.isRevoked('jti-other')).toBe(false);
      clock.advance(15 * MINUTE);
      expect(await repos.tokens.pruneExpired()).toEqual({ revoked_tokens: 1, magic_link_tokens: 1 });
      expect(await repos.tokens.isRevoked('jti-short')).toBe(false);
      expect(await repos.tokens.isRevoked('jti-long')).toBe(true);
    });
  });

  describe('magic links', () => {
    it('lets exactly one of two concurrent consumes succeed', async () => {
      const { repos, clock } = store();
      const user = await createUser(repos, 'a@x.io');
      await repos.tokens.createMagicLink({
        token_hash: 'link',
        user_id: user.id,
        expires_at: clock.isoIn(15 * MINUTE),
        next_path: '/catalog',
      });

      const results = await Promise.all([
        repos.tokens.consumeMagicLink('link'),
        repos.tokens.consumeMagicLink('link'),
      ]);

      const consumed = results.filter((row) => row !== undefined);
      expect(consumed).toHaveLength(1);
      expect(consumed[0]).toMatchObject({
        user_id: user.id,
        next_path: '/catalog',
        consumed_at: clock.iso(),
      });
    });

    it('refuses an expired or unknown link', async () => {
      const { repos, clock } = store();
      const user = await createUser(repos, 'a@x.io');
      await repos.tokens.createMagicLink({
        token_hash: 'link',
        user_id: user.id,
        expires_at: clock.isoIn(15 * MINUTE),
      });
      clock.advance(15 * MINUTE);

      expect(await repos.tokens.consumeMagicLink('link')).toBeUndefined();
      expect(await repos.tokens.consumeMagicLink('unknown')).toBeUndefined();
    });
  });
});

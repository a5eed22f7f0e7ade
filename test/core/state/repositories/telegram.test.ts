import { describe, expect, it } from 'vitest';
import { createUser, MINUTE, useFreshStore } from './fresh-store.js';

describe('telegram repository', () => {
  const store = useFreshStore();

  describe('links', () => {
    it('links a user to a chat, re-links to a new chat, and unlinks', async () => {
      const { repos, clock } = store();
      const user = await createUser(repos, 'a@x.io');

      const linked = await repos.telegram.link(user.id, 1001, 'ada');
      const relinked = await repos.telegram.link(user.id, 1002, null);

      expect(linked).toEqual({
        user_id: user.id,
        chat_id: 1001,
        linked_at: clock.iso(),
        telegram_username: 'ada',
      });
      expect(relinked.chat_id).toBe(1002);
      expect(await repos.telegram.getByChat(1001)).toBeUndefined();
      expect(await repos.telegram.getByChat(1002)).toEqual(relinked);
      expect(await repos.telegram.unlink(user.id)).toBe(true);
      expect(await repos.telegram.unlink(user.id)).toBe(false);
      expect(await repos.telegram.getByUser(user.id)).toBeUndefined();
    });

    it('refuses to link a chat already linked to another user', async () => {
      const { repos } = store();
      const first = await createUser(repos, 'a@x.io');
      const second = await createUser(repos, 'b@x.io');
      await repos.telegram.link(first.id, 1001, null);

      await expect(repos.telegram.link(second.id, 1001, null)).rejects.toMatchObject({ code: 'conflict' });
      expect((await repos.telegram.getByChat(1001))?.user_id).toBe(first.id);
    });

    it('keeps chat ids beyond 32 bits exact', async () => {
      const { repos } = store();
      const user = await createUser(repos, 'a@x.io');

      await repos.telegram.link(user.id, -1001234567890, null);

      expect((await repos.telegram.getByUser(user.id))?.chat_id).toBe(-1001234567890);
    });
  });

  describe('pending codes', () => {
    it('consumes a code once, even when two consumes race', async () => {
      const { repos, clock } = store();
      await repos.telegram.createCode({
        code: 'hash-1',
        chat_id: 7,
        expires_at: clock.isoIn(10 * MINUTE),
        telegram_username: 'ada',
      });

      const results = await Promise.all([
        repos.telegram.consumeCode('hash-1'),
        repos.telegram.consumeCode('hash-1'),
      ]);

      const consumed = results.filter((row) => row !== undefined);
      expect(consumed).toHaveLength(1);
      expect(consumed[0]).toMatchObject({ chat_id: 7, telegram_username: 'ada' });
    });

    it('invalidates a chat’s earlier codes when a new one is created', async () => {
      const { repos, clock } = store();
      await repos.telegram.createCode({ code: 'old', chat_id: 7, expires_at: clock.isoIn(10 * MINUTE) });
      await repos.telegram.createCode({
        code: 'other-chat',
        chat_id: 8,
        expires_at: clock.isoIn(10 * MINUTE),
      });

      await repos.telegram.createCode({ code: 'new', chat_id: 7, expires_at: clock.isoIn(10 * MINUTE) });

      expect(await repos.telegram.consumeCode('old')).toBeUndefined();
      expect(await repos.telegram.consumeCode('new')).toMatchObject({ chat_id: 7 });
      expect(await repos.telegram.consumeCode('other-chat')).toMatchObject({ chat_id: 8 });
    });

    it('refuses expired codes and prunes them', async () => {
      const { repos, clock } = store();
      await repos.telegram.createCode({ code: 'short', chat_id: 7, expires_at: clock.isoIn(10 * MINUTE) });
      await repos.telegram.createCode({ code: 'long', chat_id: 8, expires_at: clock.isoIn(30 * MINUTE) });
      clock.advance(10 * MINUTE);

      expect(await repos.telegram.consumeCode('short')).toBeUndefined();
      expect(await repos.telegram.pruneCodes()).toBe(1);
      expect(await repos.telegram.consumeCode('long')).toMatchObject({ chat_id: 8 });
    });
  });
});

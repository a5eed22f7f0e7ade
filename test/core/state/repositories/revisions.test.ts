import { describe, expect, it } from 'vitest';
import { useFreshStore } from './fresh-store.js';

describe('revisions', () => {
  const store = useFreshStore();

  it('never shows a revision bumped by a transaction still open, so a rollback cannot hand its number to a later write', async () => {
    const { repos } = store();
    const user = await repos.users.create({ email: 'someone@example.com' });
    const before = await repos.revisions.principals();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let bumped!: () => void;
    const inside = new Promise<void>((resolve) => {
      bumped = resolve;
    });

    const rolledBack = repos
      .transaction(async (trx) => {
        await trx.users.update(user.id, { active: false });
        bumped();
        await held;
        throw new Error('roll back');
      })
      .catch(() => 'rolled back');
    await inside;
    const during = repos.revisions.principals();
    release();

    expect(await rolledBack).toBe('rolled back');
    expect(await during).toBe(before);
    expect(await repos.revisions.principals()).toBe(before);
  });
});

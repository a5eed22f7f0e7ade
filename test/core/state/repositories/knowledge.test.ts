import { describe, expect, it } from 'vitest';
import type { NewKnowledgeItem } from '../../../../src/core/state/repositories/index.js';
import { createUser, DAY, MINUTE, useFreshStore } from './fresh-store.js';

function item(overrides: Partial<NewKnowledgeItem> = {}): NewKnowledgeItem {
  return {
    title: 'Revenue excludes VAT',
    content: 'The revenue column is net of VAT.',
    category: 'finance',
    tags: ['revenue', 'vat'],
    status: 'pending',
    contributors: [],
    source_user: null,
    content_hash: null,
    origin: 'manual',
    ...overrides,
  };
}

describe('knowledge repository', () => {
  const store = useFreshStore();

  it('creates items with JSON arrays round-tripped and audience defaulting to all', async () => {
    const { repos, clock } = store();
    const user = await createUser(repos, 'a@x.io');

    const created = await repos.knowledge.create(
      item({ contributors: [user.id], source_user: user.id, content_hash: 'ch' }),
    );

    expect(created).toMatchObject({
      tags: ['revenue', 'vat'],
      contributors: [user.id],
      audience: 'all',
      status: 'pending',
      origin: 'manual',
      created_at: clock.iso(),
      updated_at: clock.iso(),
    });
    expect(await repos.knowledge.get(created.id)).toEqual(created);
    expect((await repos.knowledge.findByContentHash('ch'))?.id).toBe(created.id);
    expect(await repos.knowledge.findByContentHash('other')).toBeUndefined();
  });

  it('stamps a person’s edit but not a system update', async () => {
    const { repos, clock } = store();
    const editor = await createUser(repos, 'km@x.io', 'km_admin');
    const created = await repos.knowledge.create(item());
    clock.advance(MINUTE);

    const imported = await repos.knowledge.update(created.id, { contributors: ['u1', 'u2'] }, null);
    clock.advance(MINUTE);
    const edited = await repos.knowledge.update(
      created.id,
      { title: 'Net revenue', tags: ['vat'] },
      editor.id,
    );

    expect(imported).toMatchObject({ contributors: ['u1', 'u2'], edited_by: null, edited_at: null });
    expect(edited).toMatchObject({
      title: 'Net revenue',
      tags: ['vat'],
      contributors: ['u1', 'u2'],
      edited_by: editor.id,
      edited_at: clock.iso(),
      updated_at: clock.iso(),
    });
    expect(await repos.knowledge.update('missing', { title: 'x' }, null)).toBeUndefined();
  });

  it('transitions only from the allowed statuses, stamping approvals', async () => {
    const { repos, clock } = store();
    const km = await createUser(repos, 'km@x.io', 'km_admin');
    const created = await repos.knowledge.create(item());
    const reviewBy = clock.isoIn(180 * DAY);

    const approved = await repos.knowledge.transition(created.id, {
      from: ['pending', 'rejected'],
      to: 'approved',
      actor: km.id,
      reason: 'checked',
      review_by: reviewBy,
    });
    const again = repos.knowledge.transition(created.id, { from: ['pending'], to: 'approved', actor: km.id });
    const missing = repos.knowledge.transition('missing', {
      from: ['pending'],
      to: 'approved',
      actor: km.id,
    });

    expect(approved).toMatchObject({
      status: 'approved',
      status_reason: 'checked',
      approved_by: km.id,
      approved_at: clock.iso(),
      review_by: reviewBy,
    });
    await expect(again).rejects.toMatchObject({ code: 'invalid_transition' });
    await expect(missing).rejects.toMatchObject({ code: 'not_found' });
  });

  it('expires published items past their review date', async () => {
    const { repos, clock } = store();
    const km = await createUser(repos, 'km@x.io', 'km_admin');
    const due = await repos.knowledge.create(item());
    const reviewBy = clock.isoIn(DAY);
    await repos.knowledge.transition(due.id, {
      from: ['pending'],
      to: 'mandatory',
      actor: km.id,
      review_by: reviewBy,
    });
    await repos.knowledge.create(item({ title: 'still pending' }));
    clock.advance(DAY);

    expect(await repos.knowledge.expireDue()).toBe(1);
    expect((await repos.knowledge.get(due.id))?.status).toBe('expired');
  });

  it('filters by status, category, audience and case-insensitive text, with totals', async () => {
    const { repos } = store();
    await repos.knowledge.create(
      item({ title: 'Churn definition', content: 'Churned means 90 days idle', status: 'approved' }),
    );
    await repos.knowledge.create(
      item({ title: 'VAT rates', category: 'tax', status: 'approved', audience: 'group:g1' }),
    );
    await repos.knowledge.create(item({ title: 'Draft', content: 'churn draft', status: 'pending' }));

    const churn = await repos.knowledge.list({ search: 'CHURN' });
    const approvedChurn = await repos.knowledge.list({ search: 'churn', status: ['approved'] });
    const tax = await repos.knowledge.list({ category: 'tax' });
    const group = await repos.knowledge.list({ audience: ['group:g1'] });
    const none = await repos.knowledge.list({ status: [] });

    expect(churn.total).toBe(2);
    expect(approvedChurn.items.map((i) => i.title)).toEqual(['Churn definition']);
    expect(tax.items.map((i) => i.title)).toEqual(['VAT rates']);
    expect(group.items.map((i) => i.title)).toEqual(['VAT rates']);
    expect(none.total).toBe(0);
  });

  it('shows a user published items of their audiences plus their own in any status', async () => {
    const { repos } = store();
    const me = await createUser(repos, 'me@x.io');
    await repos.knowledge.create(item({ title: 'for all', status: 'approved' }));
    await repos.knowledge.create(
      item({ title: 'for my group', status: 'mandatory', audience: 'group:mine' }),
    );
    await repos.knowledge.create(item({ title: 'other group', status: 'approved', audience: 'group:other' }));
    await repos.knowledge.create(item({ title: 'someone’s draft', status: 'pending' }));
    await repos.knowledge.create(item({ title: 'my rejected', status: 'rejected', source_user: me.id }));

    const visible = await repos.knowledge.list(
      { visible_to: { user_id: me.id, audiences: ['all', 'group:mine'] } },
      undefined,
      { sort: 'title', order: 'asc' },
    );
    const mine = await repos.knowledge.list({ source_user: me.id });

    expect(visible.items.map((i) => i.title)).toEqual(['for all', 'for my group', 'my rejected']);
    expect(mine.items.map((i) => i.title)).toEqual(['my rejected']);
  });

  it('pages in a stable order and sorts by vote score', async () => {
    const { repos, clock } = store();
    const a = await createUser(repos, 'a@x.io');
    const b = await createUser(repos, 'b@x.io');
    const c = await createUser(repos, 'c@x.io');
    const low = await repos.knowledge.create(item({ title: 'low', status: 'approved' }));
    clock.advance(MINUTE);
    const high = await repos.knowledge.create(item({ title: 'high', status: 'approved' }));
    clock.advance(MINUTE);
    const mid = await repos.knowledge.create(item({ title: 'mid', status: 'approved' }));
    for (const voter of [a, b, c]) await repos.knowledge.setVote(high.id, voter.id, 1);
    await repos.knowledge.setVote(mid.id, a.id, 1);
    await repos.knowledge.setVote(low.id, a.id, -1);

    const byScore = await repos.knowledge.list({}, undefined, { sort: 'score', order: 'desc' });
    const newestPage = await repos.knowledge.list({}, { page: 2, per_page: 2 });

    expect(byScore.items.map((i) => i.id)).toEqual([high.id, mid.id, low.id]);
    expect(newestPage).toMatchObject({ total: 3, page: 2, per_page: 2 });
    expect(newestPage.items.map((i) => i.id)).toEqual([low.id]);
  });

  it('keeps one vote per user, replaced on revote, and tallies per item', async () => {
    const { repos } = store();
    const a = await createUser(repos, 'a@x.io');
    const b = await createUser(repos, 'b@x.io');
    const first = await repos.knowledge.create(item({ status: 'approved' }));
    const second = await repos.knowledge.create(item({ status: 'approved' }));
    await repos.knowledge.setVote(first.id, a.id, 1);
    await repos.knowledge.setVote(first.id, a.id, -1);
    await repos.knowledge.setVote(first.id, b.id, -1);
    await repos.knowledge.setVote(second.id, a.id, 1);

    const tallies = await repos.knowledge.tally([first.id, second.id, 'unvoted']);

    expect(tallies.get(first.id)).toEqual({ upvotes: 0, downvotes: 2, score: -2 });
    expect(tallies.get(second.id)).toEqual({ upvotes: 1, downvotes: 0, score: 1 });
    expect(tallies.get('unvoted')).toEqual({ upvotes: 0, downvotes: 0, score: 0 });
    expect(await repos.knowledge.votesOfUser(a.id)).toEqual({ [first.id]: -1, [second.id]: 1 });
    expect(await repos.knowledge.removeVote(first.id, a.id)).toBe(true);
    expect(await repos.knowledge.removeVote(first.id, a.id)).toBe(false);
  });

  it('deleting an item removes its votes', async () => {
    const { repos } = store();
    const user = await createUser(repos, 'a@x.io');
    const created = await repos.knowledge.create(item({ status: 'approved' }));
    await repos.knowledge.setVote(created.id, user.id, 1);

    expect(await repos.knowledge.delete(created.id)).toBe(true);

    expect(await repos.knowledge.votesOfUser(user.id)).toEqual({});
    expect(await repos.knowledge.get(created.id)).toBeUndefined();
  });

  it('keeps each replaced version as a revision when a person edits, and leaves the status', async () => {
    const { repos, clock } = store();
    const km = await createUser(repos, 'km@x.io', 'km_admin');
    const created = await repos.knowledge.create(item({ status: 'approved' }));
    clock.advance(MINUTE);
    await repos.knowledge.edit(created.id, { title: 'Second', tags: ['b'] }, km.id);
    clock.advance(MINUTE);
    const last = await repos.knowledge.edit(created.id, { content: 'Third content' }, km.id);

    expect(last).toMatchObject({
      title: 'Second',
      content: 'Third content',
      status: 'approved',
      edited_by: km.id,
    });
    expect(await repos.knowledge.revisions(created.id)).toEqual([
      expect.objectContaining({
        revision: 1,
        title: 'Revenue excludes VAT',
        tags: ['revenue', 'vat'],
        edited_by: km.id,
      }),
      expect.objectContaining({
        revision: 2,
        title: 'Second',
        content: 'The revenue column is net of VAT.',
        tags: ['b'],
      }),
    ]);
    expect(await repos.knowledge.edit('missing', { title: 'x' }, km.id)).toBeUndefined();
  });

  it('lets contributors see items in any status but expired, unless the group audience is gone', async () => {
    const { repos } = store();
    const me = await createUser(repos, 'me@x.io');
    const group = await repos.groups.create({ name: 'Team' });
    const viewer = { user_id: me.id, audiences: ['all'] };
    const titles = async (filter = {}) =>
      (
        await repos.knowledge.list({ visible_to: viewer, ...filter }, undefined, {
          sort: 'title',
          order: 'asc',
        })
      ).items.map((i) => i.title);
    await repos.knowledge.create(item({ title: 'a contributed draft', contributors: [me.id] }));
    await repos.knowledge.create(
      item({ title: 'b contributed expired', status: 'expired', contributors: [me.id] }),
    );
    await repos.knowledge.create(item({ title: 'c my expired', status: 'expired', source_user: me.id }));
    await repos.knowledge.create(
      item({ title: 'd team draft', contributors: [me.id], audience: `group:${group.id}` }),
    );
    await repos.knowledge.create(
      item({ title: 'e my team item', source_user: me.id, audience: `group:${group.id}` }),
    );

    expect(await titles()).toEqual(['a contributed draft', 'd team draft', 'e my team item']);
    await repos.groups.delete(group.id);
    expect(await titles()).toEqual(['a contributed draft', 'e my team item']);
    expect(await titles({ involving: me.id, status: ['pending'] })).toEqual([
      'a contributed draft',
      'e my team item',
    ]);
    expect(await repos.knowledge.stats({ visible_to: viewer })).toEqual({
      total: 2,
      by_status: { pending: 2 },
      categories: { finance: 2 },
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KnowledgeStatus } from '../../../src/core/state/schema.js';
import { runMaintenance } from '../../../src/core/usecases/maintenance.js';
import { call, createUser, type TestServer, type TestUser, withServer } from '../../support/server.js';

type Action = 'approve' | 'reject' | 'mandate' | 'revoke';

describe('corporate memory (/api/memory)', () => {
  let server: TestServer;
  let km: TestUser;
  let analyst: TestUser;
  let colleague: TestUser;
  let outsider: TestUser;
  let viewer: TestUser;
  let finance: { id: string };
  let n = 0;

  /** A unique title and content per call, so duplicate checks only fire where a test wants them. */
  const fresh = (label: string) => {
    n += 1;
    return { title: `${label} ${n}`, content: `${label}: fact number ${n}.`, category: 'business_logic' };
  };
  const contribute = (user: TestUser, body: Record<string, unknown>) =>
    call(server, 'POST', '/api/memory', { auth: user.auth, body });
  const govern = (user: TestUser, action: Action | 'edit', id: string, body?: unknown) =>
    call(server, 'POST', `/api/memory/admin/${action}?item_id=${encodeURIComponent(id)}`, {
      auth: user.auth,
      body,
    });
  const get = (user: TestUser, id: string) => call(server, 'GET', `/api/memory/${id}`, { auth: user.auth });
  const list = async (user: TestUser, query = '') => {
    const response = await call(server, 'GET', `/api/memory${query}`, { auth: user.auth });
    expect(response.status).toBe(200);
    return response.body as { items: { id: string; title: string; status: string }[]; total: number };
  };
  /** An item in `status`, created by `creator` and moved there by the km_admin. */
  const itemIn = async (status: KnowledgeStatus, creator: TestUser = analyst, extra = {}) => {
    const created = await contribute(creator, { ...fresh(`in ${status}`), ...extra });
    expect(created.status).toBe(201);
    const id: string = created.body.id;
    const path: Record<KnowledgeStatus, Action[]> = {
      pending: [],
      approved: ['approve'],
      mandatory: ['mandate'],
      rejected: ['reject'],
      revoked: ['approve', 'revoke'],
      expired: [],
    };
    for (const action of path[status]) expect((await govern(km, action, id)).status).toBe(200);
    if (status === 'expired') {
      await server.ctx.repos.knowledge.transition(id, {
        from: ['pending'],
        to: 'approved',
        actor: km.id,
        review_by: new Date(Date.now() - 1000).toISOString(),
      });
      expect((await runMaintenance(server.ctx, null)).memory_expired).toBeGreaterThanOrEqual(1);
    }
    return id;
  };

  beforeAll(async () => {
    server = await withServer({
      config: { auth: { rate_limits: { default: { max: 100_000, window_seconds: 60 } } } },
    });
    [km, analyst, colleague, outsider, viewer] = await Promise.all([
      createUser(server.ctx, 'km_admin'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'analyst'),
      createUser(server.ctx, 'viewer'),
    ]);
    finance = await server.ctx.repos.groups.create({ name: 'Finance' });
    await server.ctx.repos.groups.addMember(finance.id, analyst.id, null);
    await server.ctx.repos.groups.addMember(finance.id, colleague.id, null);
  });
  afterAll(async () => server.close());

  it('creates pending items for analysts, refuses viewers (403) and bad input (422)', async () => {
    const body = { ...fresh('Net revenue'), tags: ['revenue', ' revenue ', 'vat'] };
    const created = await contribute(analyst, body);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ id: expect.any(String), status: 'pending' });
    const item = await get(analyst, created.body.id);
    expect(item.body).toMatchObject({
      title: body.title,
      content: body.content,
      category: 'business_logic',
      tags: ['revenue', 'vat'],
      status: 'pending',
      audience: 'all',
      origin: 'manual',
      contributors: [],
      source_user: { id: analyst.id, name: expect.any(String) },
      upvotes: 0,
      downvotes: 0,
      score: 0,
      my_vote: null,
      approved_at: null,
      status_reason: null,
    });
    expect((await contribute(viewer, fresh('viewer'))).status).toBe(403);
    const badCategory = await contribute(analyst, { ...fresh('x'), category: 'gossip' });
    expect(badCategory.status).toBe(422);
    expect(badCategory.body.errors).toEqual([{ path: '/body/category', message: expect.any(String) }]);
    expect((await contribute(analyst, { ...fresh('x'), title: '' })).status).toBe(422);
    expect((await contribute(analyst, { ...fresh('x'), content: 'x'.repeat(10_001) })).status).toBe(422);
    expect((await contribute(analyst, { ...fresh('x'), tags: Array(11).fill('t') })).status).toBe(422);
    expect((await contribute(analyst, { ...fresh('x'), audience: 'everyone' })).status).toBe(422);
    // A group audience must be one of the contributor's groups.
    expect((await contribute(outsider, { ...fresh('x'), audience: `group:${finance.id}` })).status).toBe(422);
  });

  it('answers 409 duplicate with existing_id only for a duplicate the caller can see', async () => {
    const original = fresh('Churn definition');
    const first = await contribute(analyst, original);
    const sameTitle = await contribute(analyst, {
      ...fresh('other'),
      title: `  ${original.title.toUpperCase()}\t`,
    });
    expect(sameTitle.status).toBe(409);
    expect(sameTitle.body).toMatchObject({ code: 'duplicate', existing_id: first.body.id });
    const sameContent = await contribute(analyst, {
      ...fresh('other'),
      content: original.content.toLowerCase().replace(' ', '   '),
    });
    expect(sameContent.body).toMatchObject({ code: 'duplicate', existing_id: first.body.id });
    // The pending original is invisible to another analyst: no 409, no id leaked.
    const elsewhere = await contribute(outsider, original);
    expect(elsewhere.status).toBe(201);
    expect(JSON.stringify(elsewhere.body)).not.toContain(first.body.id);
  });

  it('moves items by the transition table of 08 §4.2, 409 invalid_transition otherwise', async () => {
    const table: Record<KnowledgeStatus, Record<Action, KnowledgeStatus | null>> = {
      pending: { approve: 'approved', reject: 'rejected', mandate: 'mandatory', revoke: null },
      approved: { approve: null, reject: 'rejected', mandate: 'mandatory', revoke: 'revoked' },
      mandatory: { approve: 'approved', reject: null, mandate: null, revoke: 'revoked' },
      rejected: { approve: 'approved', reject: null, mandate: null, revoke: null },
      revoked: { approve: 'approved', reject: null, mandate: null, revoke: null },
      expired: { approve: 'approved', reject: 'rejected', mandate: 'mandatory', revoke: 'revoked' },
    };
    for (const [from, targets] of Object.entries(table) as [
      KnowledgeStatus,
      Record<Action, KnowledgeStatus | null>,
    ][]) {
      for (const [action, to] of Object.entries(targets) as [Action, KnowledgeStatus | null][]) {
        const id = await itemIn(from);
        const response = await govern(km, action, id, { reason: `${action} from ${from}` });
        if (to === null) {
          expect(response.status, `${from} ${action}`).toBe(409);
          expect(response.body).toMatchObject({ code: 'invalid_transition', status: from });
          expect((await get(km, id)).body.status).toBe(from);
        } else {
          expect(response.status, `${from} ${action}`).toBe(200);
          expect(response.body).toEqual({ id, status: to });
          expect((await get(km, id)).body).toMatchObject({
            status: to,
            status_reason: `${action} from ${from}`,
          });
        }
      }
    }
  }, 60_000);

  it('stamps approvals with approved_by, approved_at and review_by, and audits km_<action> with reason and audience', async () => {
    const id = await itemIn('pending');
    const mandated = await govern(km, 'mandate', id, {
      reason: 'finance rule',
      audience: `group:${finance.id}`,
    });
    expect(mandated.status).toBe(200);
    const row = await server.ctx.repos.knowledge.get(id);
    expect(row).toMatchObject({ status: 'mandatory', approved_by: km.id, audience: `group:${finance.id}` });
    const months = (Date.parse(row!.review_by!) - Date.parse(row!.approved_at!)) / (30.4 * 86_400_000);
    expect(Math.round(months)).toBe(12);
    const audit = await call(server, 'GET', '/api/memory/admin/audit?action=mandate', { auth: km.auth });
    expect(audit.status).toBe(200);
    const entry = audit.body.entries.find((e: { resource: string }) => e.resource === id);
    expect(entry).toMatchObject({
      action: 'km_mandate',
      user_id: km.id,
      params: { reason: 'finance rule', audience: `group:${finance.id}` },
      result: 'ok',
    });
    expect(audit.body.count).toBe(audit.body.total);
    // Approving takes no audience; the audit records the item's audience anyway.
    expect((await govern(km, 'approve', id, { audience: 'all' })).status).toBe(422);
    await govern(km, 'approve', id);
    const approvals = await call(server, 'GET', '/api/memory/admin/audit?action=approve', { auth: km.auth });
    expect(approvals.body.entries[0]).toMatchObject({
      action: 'km_approve',
      resource: id,
      params: { reason: null, audience: `group:${finance.id}` },
    });
    expect((await call(server, 'GET', '/api/memory/admin/audit?action=vote', { auth: km.auth })).status).toBe(
      422,
    );
  });

  it('answers 404 for unknown items on every governance route', async () => {
    for (const action of ['approve', 'reject', 'mandate', 'revoke'] as const)
      expect((await govern(km, action, 'no-such-item')).status).toBe(404);
    expect((await govern(km, 'edit', 'no-such-item', { title: 'x' })).status).toBe(404);
  });

  it('keeps governance to km_admins: analysts get 403 on every admin route', async () => {
    const id = await itemIn('pending');
    for (const action of ['approve', 'reject', 'mandate', 'revoke'] as const) {
      const response = await govern(analyst, action, id);
      expect(response.status).toBe(403);
      expect(response.body.code).toBe('forbidden_role');
    }
    expect((await govern(analyst, 'edit', id, { title: 'mine now' })).status).toBe(403);
    const batch = await call(server, 'POST', '/api/memory/admin/batch', {
      auth: analyst.auth,
      body: { item_ids: [id], action: 'approve' },
    });
    expect(batch.status).toBe(403);
    for (const path of ['/api/memory/admin/pending', '/api/memory/admin/audit'])
      expect((await call(server, 'GET', path, { auth: analyst.auth })).status).toBe(403);
    expect((await get(km, id)).body.status).toBe('pending');
  });

  it('lets an analyst see only their groups’ items: another group’s items stay hidden (404)', async () => {
    const other = await server.ctx.repos.groups.create({ name: 'Sales' });
    await server.ctx.repos.groups.addMember(other.id, outsider.id, null);
    const forSales = await itemIn('approved', outsider, { audience: `group:${other.id}` });
    const forFinance = await itemIn('mandatory', colleague, { audience: `group:${finance.id}` });

    expect((await get(analyst, forSales)).status).toBe(404);
    expect((await list(analyst)).items.map((i) => i.id)).not.toContain(forSales);
    expect((await list(analyst, '?search=in%20approved')).items.map((i) => i.id)).not.toContain(forSales);
    expect((await get(analyst, forFinance)).status).toBe(200);
    expect((await get(outsider, forSales)).status).toBe(200);
    expect((await get(outsider, forFinance)).status).toBe(404);
    const vote = await call(server, 'POST', `/api/memory/${forSales}/vote`, {
      auth: analyst.auth,
      body: { vote: 1 },
    });
    expect(vote.status).toBe(404);
    const mandatory = await call(server, 'GET', '/api/memory/mandatory', { auth: analyst.auth });
    expect(mandatory.body.items.map((i: { id: string }) => i.id)).toContain(forFinance);
    const mandatoryElsewhere = await call(server, 'GET', '/api/memory/mandatory', { auth: outsider.auth });
    expect(mandatoryElsewhere.body.items.map((i: { id: string }) => i.id)).not.toContain(forFinance);
    // Stats count only what the caller sees.
    const stats = await call(server, 'GET', '/api/memory/stats', { auth: analyst.auth });
    const everything = await call(server, 'GET', '/api/memory/stats', { auth: km.auth });
    expect(stats.body.total).toBe((await list(analyst, '?per_page=200')).total);
    expect(everything.body.total).toBeGreaterThan(stats.body.total);
    expect(everything.body.by_status.pending).toBeGreaterThan(0);
  });

  it('shows pending and rejected items to their creator, contributors and km_admins only; expired to km_admins only', async () => {
    const pending = await itemIn('pending');
    const rejected = await itemIn('rejected');
    await server.ctx.repos.knowledge.update(pending, { contributors: [colleague.id] }, null);
    expect((await get(analyst, pending)).status).toBe(200);
    expect((await get(colleague, pending)).status).toBe(200);
    expect((await get(km, pending)).status).toBe(200);
    expect((await get(outsider, pending)).status).toBe(404);
    expect((await get(analyst, rejected)).status).toBe(200);
    expect((await get(outsider, rejected)).status).toBe(404);
    const mine = await list(colleague, '?mine=true&per_page=200');
    expect(mine.items.map((i) => i.id)).toContain(pending);
    expect(mine.items.every((i) => i.id !== rejected)).toBe(true);

    const expired = await itemIn('expired');
    expect((await get(km, expired)).body.status).toBe('expired');
    expect((await get(analyst, expired)).status).toBe(404);
    expect((await get(outsider, expired)).status).toBe(404);
  });

  it('shows items of a deleted group to their creator and km_admins only', async () => {
    const team = await server.ctx.repos.groups.create({ name: 'Short-lived' });
    await server.ctx.repos.groups.addMember(team.id, analyst.id, null);
    await server.ctx.repos.groups.addMember(team.id, colleague.id, null);
    const principalOf = async (user: TestUser) => ({
      id: user.id,
      email: user.email,
      role: user.role,
      active: true,
      is_service: false,
      groups: await server.ctx.repos.groups.listGroupsOfUser(user.id),
    });
    const id = await itemIn('approved', analyst, { audience: `group:${team.id}` });
    await server.ctx.repos.knowledge.update(id, { contributors: [colleague.id] }, null);
    expect((await get(colleague, id)).status).toBe(200);
    expect((await principalOf(colleague)).groups.some((g) => g.id === team.id)).toBe(true);
    await server.ctx.repos.groups.delete(team.id);
    expect((await get(analyst, id)).status).toBe(200);
    expect((await get(km, id)).status).toBe(200);
    expect((await get(colleague, id)).status).toBe(404);
    expect((await get(outsider, id)).status).toBe(404);
  });

  it('takes one vote per user on published items, 409 not_votable otherwise', async () => {
    const id = await itemIn('approved');
    const vote = (user: TestUser, value: number) =>
      call(server, 'POST', `/api/memory/${id}/vote`, { auth: user.auth, body: { vote: value } });
    expect((await vote(analyst, 1)).body).toEqual({ upvotes: 1, downvotes: 0, score: 1, my_vote: 1 });
    expect((await vote(viewer, 1)).body).toEqual({ upvotes: 2, downvotes: 0, score: 2, my_vote: 1 });
    expect((await vote(analyst, -1)).body).toEqual({ upvotes: 1, downvotes: 1, score: 0, my_vote: -1 });
    expect((await vote(analyst, 0)).body).toEqual({ upvotes: 1, downvotes: 0, score: 1, my_vote: null });
    expect((await vote(analyst, 2)).status).toBe(422);
    expect((await get(viewer, id)).body).toMatchObject({ upvotes: 1, score: 1, my_vote: 1 });
    expect((await get(analyst, id)).body.my_vote).toBeNull();
    const votes = await call(server, 'GET', '/api/memory/my-votes', { auth: viewer.auth });
    expect(votes.body[id]).toBe(1);

    const pending = await itemIn('pending');
    const refused = await call(server, 'POST', `/api/memory/${pending}/vote`, {
      auth: analyst.auth,
      body: { vote: 1 },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('not_votable');
    expect(
      (await call(server, 'POST', '/api/memory/nothing/vote', { auth: analyst.auth, body: { vote: 1 } }))
        .status,
    ).toBe(404);
  });

  it('edits keep the status and the replaced version as a revision, readable by the creator and km_admins', async () => {
    const id = await itemIn('approved');
    const before = (await get(km, id)).body;
    const edited = await govern(km, 'edit', id, {
      title: 'Edited title',
      tags: ['a'],
      category: 'business_logic',
    });
    expect(edited.body).toEqual({ id, updated: ['title', 'tags'] });
    await govern(km, 'edit', id, { content: 'New content.' });
    expect((await govern(km, 'edit', id, { content: 'New content.' })).body).toEqual({ id, updated: [] });
    expect((await govern(km, 'edit', id, { category: 'gossip' })).status).toBe(422);
    expect((await get(km, id)).body).toMatchObject({
      status: 'approved',
      title: 'Edited title',
      content: 'New content.',
    });
    const history = await call(server, 'GET', `/api/memory/${id}/history`, { auth: analyst.auth });
    expect(history.status).toBe(200);
    expect(history.body.revisions).toEqual([
      {
        revision: 1,
        title: before.title,
        content: before.content,
        category: 'business_logic',
        tags: [],
        edited_by: km.id,
        edited_at: expect.any(String),
      },
      expect.objectContaining({ revision: 2, title: 'Edited title', content: before.content, tags: ['a'] }),
    ]);
    expect((await call(server, 'GET', `/api/memory/${id}/history`, { auth: km.auth })).status).toBe(200);
    expect((await call(server, 'GET', `/api/memory/${id}/history`, { auth: colleague.auth })).status).toBe(
      404,
    );
    const audit = await call(server, 'GET', '/api/memory/admin/audit?action=edit', { auth: km.auth });
    const [refused, unchanged, changed] = audit.body.entries;
    expect(refused).toMatchObject({
      action: 'km_edit',
      resource: id,
      result: 'error',
      params: { fields: ['category'] },
    });
    expect(unchanged).toMatchObject({
      action: 'km_edit',
      result: 'ok',
      params: { updated: [], audience: 'all' },
    });
    expect(changed).toMatchObject({ params: { updated: ['content'], audience: 'all' } });
  });

  it('applies a batch item by item: success, not_found and invalid with the current status', async () => {
    const pending = await itemIn('pending');
    const approved = await itemIn('approved');
    const response = await call(server, 'POST', '/api/memory/admin/batch', {
      auth: km.auth,
      body: { item_ids: [pending, approved, 'missing'], action: 'approve', reason: 'weekly review' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      success: [pending],
      not_found: ['missing'],
      invalid: [{ id: approved, status: 'approved' }],
    });
    const unknown = await call(server, 'POST', '/api/memory/admin/batch', {
      auth: km.auth,
      body: { item_ids: [pending], action: 'delete' },
    });
    expect(unknown.status).toBe(422);
    const audit = await call(server, 'GET', '/api/memory/admin/audit?action=approve', { auth: km.auth });
    expect(audit.body.entries[0]).toMatchObject({
      resource: 'batch',
      params: { item_ids: [pending], reason: 'weekly review' },
    });
  });

  it('honours status, category, search, sort, order and paging', async () => {
    const tag = `Sortable${Date.now()}`;
    const ids: string[] = [];
    for (const letter of ['b', 'c', 'a']) {
      const id = await itemIn('approved', analyst, {
        ...fresh(`${tag} ${letter}`),
        title: `${tag} ${letter}`,
      });
      ids.push(id);
    }
    const byTitle = await list(analyst, `?search=${tag}&sort=title&order=asc`);
    expect(byTitle.items.map((i) => i.title)).toEqual([`${tag} a`, `${tag} b`, `${tag} c`]);
    const newest = await list(analyst, `?search=${tag}`);
    expect(newest.items.map((i) => i.id)).toEqual([...ids].reverse());
    const second = await call(
      server,
      'GET',
      `/api/memory?search=${tag}&sort=title&order=desc&page=2&per_page=2`,
      {
        auth: analyst.auth,
      },
    );
    expect(second.body).toMatchObject({ total: 3, count: 3, page: 2, per_page: 2 });
    expect(second.body.items.map((i: { title: string }) => i.title)).toEqual([`${tag} a`]);
    await call(server, 'POST', `/api/memory/${ids[2]}/vote`, { auth: colleague.auth, body: { vote: 1 } });
    await call(server, 'POST', `/api/memory/${ids[0]}/vote`, { auth: colleague.auth, body: { vote: -1 } });
    const byScore = await list(analyst, `?search=${tag}&sort=score`);
    expect(byScore.items.map((i) => i.id)).toEqual([ids[2], ids[1], ids[0]]);
    await govern(km, 'reject', ids[1]!);
    expect((await list(km, `?search=${tag}&status=rejected`)).items.map((i) => i.id)).toEqual([ids[1]]);
    expect((await list(km, `?search=${tag}&status=approved,rejected`)).total).toBe(3);
    expect((await list(km, `?search=${tag}&category=workflow`)).total).toBe(0);
    for (const bad of ['?status=bogus', '?sort=votes', '?order=up', '?page=0', '?per_page=201'])
      expect((await call(server, 'GET', `/api/memory${bad}`, { auth: analyst.auth })).status, bad).toBe(422);
    const queue = await call(server, 'GET', '/api/memory/admin/pending?per_page=1', { auth: km.auth });
    expect(queue.body).toMatchObject({ page: 1, per_page: 1 });
    expect(queue.body.items).toHaveLength(1);
    expect(queue.body.items[0].status).toBe('pending');
    expect(queue.body.total).toBe(queue.body.count);
  });
});

describe('corporate memory under auto_publish', () => {
  let server: TestServer;
  afterAll(async () => server?.close());

  it('publishes contributions at once, with a review date', async () => {
    server = await withServer({
      config: { corporate_memory: { approval_mode: 'auto_publish', review_period_months: 6 } },
    });
    const analyst = await createUser(server.ctx, 'analyst');
    const created = await call(server, 'POST', '/api/memory', {
      auth: analyst.auth,
      body: { title: 'Published', content: 'At once.', category: 'workflow' },
    });
    expect(created.body).toEqual({ id: expect.any(String), status: 'approved' });
    const row = await server.ctx.repos.knowledge.get(created.body.id);
    expect(row).toMatchObject({
      status: 'approved',
      approved_at: expect.any(String),
      review_by: expect.any(String),
    });
    const months = (Date.parse(row!.review_by!) - Date.parse(row!.approved_at!)) / (30.4 * 86_400_000);
    expect(Math.round(months)).toBe(6);
  });
});

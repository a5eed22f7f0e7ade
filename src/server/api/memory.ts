import { Type } from '@sinclair/typebox';
import {
  MandatoryMemorySchema,
  MEMORY_STATUSES,
  MemoryBatchResultSchema,
  MemoryBatchSchema,
  MemoryCreatedSchema,
  MemoryEditedSchema,
  MemoryEditSchema,
  MemoryHistorySchema,
  MemoryItemSchema,
  MemoryListSchema,
  MemoryReason,
  MemoryStatsSchema,
  type MemoryStatus,
  MemoryVoteResultSchema,
  MemoryVoteSchema,
  MyMemoryVotesSchema,
  NewMemoryItemSchema,
} from '../../contract/index.js';
import { MemoryAudienceSchema } from '../../contract/memory.js';
import {
  createMemoryItem,
  editMemoryItem,
  getMemoryItem,
  governMemory,
  governMemoryBatch,
  listMemory,
  mandatoryMemory,
  memoryAudit,
  memoryHistory,
  memoryStats,
  myMemoryVotes,
  pendingMemory,
  voteMemory,
} from '../../core/usecases/memory.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors, Id, PagedQuery, PageFields, pageOf } from '../schemas.js';
import { AuditEntryView, entryViews } from './audit.js';

const Category = Type.String({ minLength: 1, maxLength: 100 });
const STATUS_LIST = `^(${MEMORY_STATUSES.join('|')})(,(${MEMORY_STATUSES.join('|')}))*$`;
const ItemParams = Type.Object({ item_id: Id });
const ItemQuery = Type.Object({ item_id: Id }, { additionalProperties: false });
const GovernedSchema = (status: string) => Type.Object({ id: Type.String(), status: Type.Literal(status) });

/** Corporate memory (03 §13): reading, contributing and voting for users; governance for km_admins. */
export async function memoryRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;

  app.get(
    '/api/memory',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['memory'],
        summary: 'Memory items the caller can see, filtered, sorted and paged',
        querystring: PagedQuery({
          status: Type.Optional(Type.String({ pattern: STATUS_LIST, description: 'comma list of statuses' })),
          category: Type.Optional(Category),
          search: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          mine: Type.Optional(Type.Boolean()),
          sort: Type.Optional(
            Type.Union(
              ['updated_at', 'created_at', 'score', 'title'].map((s) => Type.Literal(s)),
              {
                default: 'updated_at',
              },
            ),
          ),
          order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')], { default: 'desc' })),
        }),
        response: { 200: MemoryListSchema, ...errors(401, 422) },
      },
    },
    async (request) => {
      const { status, category, search, mine, sort, order } = request.query;
      return listMemory(
        ctx,
        request.auth!.principal,
        {
          ...(status ? { status: [...new Set(status.split(','))] as MemoryStatus[] } : {}),
          category,
          search,
          mine,
          order: {
            sort: (sort ?? 'updated_at') as 'updated_at' | 'created_at' | 'score' | 'title',
            order: order ?? 'desc',
          },
        },
        pageOf(request.query),
      );
    },
  );

  app.get(
    '/api/memory/stats',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['memory'],
        summary: 'Counts by status and category over the items the caller can see',
        response: { 200: MemoryStatsSchema, ...errors(401) },
      },
    },
    async (request) => memoryStats(ctx, request.auth!.principal),
  );

  app.get(
    '/api/memory/mandatory',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['memory'],
        summary: "Mandatory items for the caller's audience, newest first",
        response: { 200: MandatoryMemorySchema, ...errors(401) },
      },
    },
    async (request) => ({ items: await mandatoryMemory(ctx, request.auth!.principal) }),
  );

  app.get(
    '/api/memory/my-votes',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['memory'],
        summary: "The caller's votes by item id",
        response: { 200: MyMemoryVotesSchema, ...errors(401) },
      },
    },
    async (request) => myMemoryVotes(ctx, request.auth!.principal),
  );

  app.get(
    '/api/memory/:item_id',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['memory'],
        summary: 'One memory item the caller can see',
        params: ItemParams,
        response: { 200: MemoryItemSchema, ...errors(401, 404) },
      },
    },
    async (request) => getMemoryItem(ctx, request.auth!.principal, request.params.item_id),
  );

  app.get(
    '/api/memory/:item_id/history',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['memory'],
        summary: "An item's earlier versions, oldest first (km_admins and the item's creator)",
        params: ItemParams,
        response: { 200: MemoryHistorySchema, ...errors(401, 404) },
      },
    },
    async (request) => memoryHistory(ctx, request.auth!.principal, request.params.item_id),
  );

  app.post(
    '/api/memory',
    {
      config: { auth: 'analyst+' },
      schema: {
        tags: ['memory'],
        summary: 'Contribute an item: pending, or approved at once under auto_publish',
        body: NewMemoryItemSchema,
        response: { 201: MemoryCreatedSchema, ...errors(401, 403, 409, 422) },
      },
    },
    async (request, reply) => {
      const created = await createMemoryItem(ctx, request.auth!.principal, request.body);
      const { title, category, tags, audience } = request.body;
      request.audit = {
        action: 'memory.create',
        resource: created.id,
        params: { title, category, tags, audience: audience ?? 'all', status: created.status },
      };
      return reply.status(201).send(created);
    },
  );

  app.post(
    '/api/memory/:item_id/vote',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['memory'],
        summary: 'Vote +1 or -1 on an approved or mandatory item; 0 removes the vote',
        params: ItemParams,
        body: MemoryVoteSchema,
        response: { 200: MemoryVoteResultSchema, ...errors(401, 404, 409, 422) },
      },
    },
    async (request) => {
      request.audit.action = 'memory.vote';
      return voteMemory(ctx, request.auth!.principal, request.params.item_id, request.body.vote);
    },
  );

  const actions = [
    { action: 'approve', status: 'approved', summary: 'Approve an item (also un-mandates a mandatory one)' },
    { action: 'reject', status: 'rejected', summary: 'Reject an item' },
    {
      action: 'mandate',
      status: 'mandatory',
      summary: 'Make an item mandatory, optionally for one audience',
    },
    { action: 'revoke', status: 'revoked', summary: 'Revoke a published or expired item' },
  ] as const;
  for (const { action, status, summary } of actions) {
    const body =
      action === 'mandate'
        ? Type.Object(
            { reason: Type.Optional(MemoryReason), audience: Type.Optional(MemoryAudienceSchema) },
            { additionalProperties: false },
          )
        : Type.Object({ reason: Type.Optional(MemoryReason) }, { additionalProperties: false });
    app.post(
      `/api/memory/admin/${action}`,
      {
        config: { auth: 'km_admin+' },
        schema: {
          tags: ['memory'],
          summary,
          querystring: ItemQuery,
          body: Type.Optional(body),
          response: { 200: GovernedSchema(status), ...errors(401, 403, 404, 409, 422) },
        },
      },
      async (request) => {
        const { item_id } = request.query;
        const input = (request.body ?? {}) as { reason?: string; audience?: string };
        request.audit = {
          action: `km_${action}`,
          resource: item_id,
          params: { reason: input.reason ?? null, audience: input.audience ?? null },
        };
        const item = await governMemory(ctx, request.auth!.principal, { ...input, id: item_id, action });
        request.audit.params = { reason: input.reason ?? null, audience: item.audience };
        return { id: item.id, status };
      },
    );
  }

  app.post(
    '/api/memory/admin/edit',
    {
      config: { auth: 'km_admin+' },
      schema: {
        tags: ['memory'],
        summary: "Edit an item's fields; the replaced version is kept as a revision and the status stays",
        querystring: ItemQuery,
        body: MemoryEditSchema,
        response: { 200: MemoryEditedSchema, ...errors(401, 403, 404, 422) },
      },
    },
    async (request) => {
      const { item_id } = request.query;
      request.audit = { action: 'km_edit', resource: item_id, params: { fields: Object.keys(request.body) } };
      const { audience, ...edited } = await editMemoryItem(
        ctx,
        request.auth!.principal,
        item_id,
        request.body,
      );
      request.audit.params = { updated: edited.updated, audience };
      return edited;
    },
  );

  app.post(
    '/api/memory/admin/batch',
    {
      config: { auth: 'km_admin+' },
      schema: {
        tags: ['memory'],
        summary: 'Apply one governance action to many items; each succeeds or fails on its own',
        body: MemoryBatchSchema,
        response: { 200: MemoryBatchResultSchema, ...errors(401, 403, 422) },
      },
    },
    async (request) => {
      const { action, reason, audience } = request.body;
      request.audit = {
        action: `km_${action}`,
        resource: 'batch',
        params: { item_ids: request.body.item_ids, reason: reason ?? null, audience: audience ?? null },
      };
      const result = await governMemoryBatch(ctx, request.auth!.principal, request.body);
      request.audit.params = { item_ids: result.success, reason: reason ?? null, audience: audience ?? null };
      return result;
    },
  );

  app.get(
    '/api/memory/admin/pending',
    {
      config: { auth: 'km_admin+' },
      schema: {
        tags: ['memory'],
        summary: 'The review queue: pending items, newest first',
        querystring: PagedQuery({ category: Type.Optional(Category) }),
        response: { 200: MemoryListSchema, ...errors(401, 403, 422) },
      },
    },
    async (request) =>
      pendingMemory(
        ctx,
        request.auth!.principal,
        { category: request.query.category },
        pageOf(request.query),
      ),
  );

  app.get(
    '/api/memory/admin/audit',
    {
      config: { auth: 'km_admin+' },
      schema: {
        tags: ['memory'],
        summary: 'Governance actions from the audit log, newest first',
        querystring: PagedQuery({
          action: Type.Optional(
            Type.Union(
              ['approve', 'reject', 'mandate', 'revoke', 'edit', 'import'].map((a) => Type.Literal(a)),
            ),
          ),
        }),
        response: {
          200: Type.Object({ entries: Type.Array(AuditEntryView), count: Type.Integer(), ...PageFields }),
          ...errors(401, 403, 422),
        },
      },
    },
    async (request) => {
      const action = request.query.action as Parameters<typeof memoryAudit>[1]['action'];
      const page = await memoryAudit(ctx, { action }, pageOf(request.query));
      return {
        entries: await entryViews(ctx.repos, page.items),
        count: page.total,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
      };
    },
  );
}

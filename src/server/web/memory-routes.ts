import type { FastifyRequest } from 'fastify';
import { MEMORY_STATUSES, type MemoryStatus } from '../../contract/index.js';
import { hasRole } from '../../core/access/roles.js';
import {
  listMemory,
  mandatoryMemory,
  memoryAudit,
  memoryStats,
  pendingMemory,
} from '../../core/usecases/memory.js';
import { entryViews } from '../api/audit.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { page } from './page.js';
import { MEMORY_SORTS, MemoryPage, type MemorySort } from './pages/memory.js';
import { MemoryAdminPage, type MemoryAdminTab } from './pages/memory-admin.js';

type Query = Record<string, string | undefined>;
const queryOf = (request: FastifyRequest) => request.query as Query;

/** Server-rendered lists show 50 items a page (08 §4.3). */
const PER_PAGE = 50;

function pageNumber(value: string | undefined): number {
  const n = Number.parseInt(value ?? '1', 10);
  return Number.isInteger(n) && n >= 1 && n <= 100_000 ? n : 1;
}

/** What the main list shows besides the pinned mandatory items: nothing expired. */
const LISTED: readonly MemoryStatus[] = ['approved', 'pending', 'rejected', 'revoked'];

/** `/corporate-memory` for everyone and `/corporate-memory/admin` for km_admins (09 §2). */
export async function memoryPages(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;
  const { categories } = ctx.config.corporate_memory;

  page(app, services, '/corporate-memory', 'user', async (pageCtx, request) => {
    const principal = request.auth!.principal;
    const query = queryOf(request);
    const sort = (MEMORY_SORTS as readonly string[]).includes(query.sort ?? '')
      ? (query.sort as MemorySort)
      : 'updated_at';
    const filters = {
      search: (query.q ?? '').trim().slice(0, 200),
      category: categories.includes(query.category ?? '') ? (query.category as string) : '',
      sort,
      mine: query.mine === '1',
      page: pageNumber(query.page),
    };
    const [mandatory, list] = await Promise.all([
      mandatoryMemory(ctx, principal),
      listMemory(
        ctx,
        principal,
        {
          status: LISTED,
          ...(filters.search ? { search: filters.search } : {}),
          ...(filters.category ? { category: filters.category } : {}),
          mine: filters.mine,
          order: { sort, order: sort === 'title' ? 'asc' : 'desc' },
        },
        { page: filters.page, per_page: PER_PAGE },
      ),
    ]);
    return MemoryPage({
      ctx: pageCtx,
      mandatory,
      items: list.items,
      total: list.total,
      perPage: PER_PAGE,
      filters,
      categories,
      groups: principal.groups,
      canContribute: hasRole(principal.role, 'analyst'),
    });
  });

  page(app, services, '/corporate-memory/admin', 'km_admin+', async (pageCtx, request) => {
    const principal = request.auth!.principal;
    const query = queryOf(request);
    const tab: MemoryAdminTab = query.tab === 'all' || query.tab === 'audit' ? query.tab : 'review';
    const groups = (await ctx.repos.groups.list({ page: 1, per_page: 200 })).items.map((g) => ({
      id: g.id,
      name: g.name,
    }));
    const stats = await memoryStats(ctx, principal);
    const number = pageNumber(query.page);
    const shared = { ctx: pageCtx, tab, stats, categories, groups, statuses: MEMORY_STATUSES };
    if (tab === 'review') {
      const review = await pendingMemory(ctx, principal, {}, { page: 1, per_page: PER_PAGE });
      return MemoryAdminPage({ ...shared, review });
    }
    if (tab === 'all') {
      const status = (MEMORY_STATUSES as readonly string[]).includes(query.status ?? '')
        ? (query.status as MemoryStatus)
        : '';
      const all = await listMemory(ctx, principal, status ? { status: [status] } : {}, {
        page: number,
        per_page: PER_PAGE,
      });
      return MemoryAdminPage({
        ...shared,
        all: { items: all.items, total: all.total, page: number, perPage: PER_PAGE, status },
      });
    }
    const audit = await memoryAudit(ctx, {}, { page: 1, per_page: PER_PAGE });
    return MemoryAdminPage({ ...shared, audit: await entryViews(ctx.repos, audit.items) });
  });
}

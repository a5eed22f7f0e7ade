import type { FastifyRequest } from 'fastify';
import { isAgnesError } from '../../core/errors.js';
import { getAlert, listAlerts } from '../../core/usecases/alerts.js';
import { listCatalog, readableProfile, tableDetail } from '../../core/usecases/catalog.js';
import { mandatoryMemory } from '../../core/usecases/memory.js';
import { syncHistory } from '../../core/usecases/sync.js';
import { telegramStatus } from '../../core/usecases/telegram.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { magicLinksEnabled } from '../auth/providers/magic-link.js';
import { safeNext } from '../auth/redirects.js';
import { adminPages } from './admin-routes.js';
import { memoryPages } from './memory-routes.js';
import { page } from './page.js';
import { AccountPage } from './pages/account.js';
import { AlertsPage } from './pages/alerts.js';
import { type CatalogFilters, CatalogPage } from './pages/catalog.js';
import { DashboardPage } from './pages/dashboard.js';
import { ForgotPasswordPage, LoginPage } from './pages/login.js';
import { SqlPage } from './pages/sql.js';
import { TablePage } from './pages/table.js';

type Query = Record<string, string | undefined>;

const STALE_AFTER_MS = 7 * 86_400_000;

/** The page routes of 09 §2 pages whose data lives in the catalog and the caller's own records. */
export async function webRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { config, repos } = services.ctx;

  /** Anonymous pages send signed-in users on; an unusable cookie counts as signed out. */
  const signedIn = async (request: FastifyRequest) =>
    services.authenticator.authenticate(request).catch((error: unknown) => {
      if (isAgnesError(error)) return null;
      throw error;
    });

  app.get('/', { config: { auth: 'anon', page: true }, schema: { hide: true } }, async (request, reply) =>
    reply.redirect((await signedIn(request)) ? '/dashboard' : '/login', 302),
  );

  page(app, services, '/login', 'anon', async (ctx, request, reply) => {
    const query = request.query as Query;
    const next = query.next ? safeNext(query.next) : null;
    if (await signedIn(request)) return reply.redirect(next ?? '/dashboard', 302);
    const notice = query.sent
      ? 'sent'
      : query.reset_requested
        ? 'reset_requested'
        : query.reset === 'ok'
          ? 'reset'
          : null;
    return LoginPage({
      ctx,
      options: {
        next,
        error: query.error,
        notice,
        magicLinks: magicLinksEnabled({ config, mailer: services.mailer }),
        google: services.google.enabled,
      },
    });
  });

  page(app, services, '/login/forgot', 'anon', async (ctx) => ForgotPasswordPage({ ctx }));

  page(app, services, '/dashboard', 'user', async (ctx, request) => {
    const principal = request.auth!.principal;
    const tables = await listCatalog(services.ctx, principal, {});
    const now = Date.now();
    const stale = tables.filter((t) => !t.updated || now - Date.parse(t.updated) > STALE_AFTER_MS);
    let admin: Parameters<typeof DashboardPage>[0]['data']['admin'];
    if (principal.role === 'admin') {
      const [pending, running] = await Promise.all([
        repos.accessRequests.list({ status: 'pending' }, { page: 1, per_page: 1 }),
        repos.jobs.list({ status: 'running' }, { page: 1, per_page: 20 }),
      ]);
      admin = { pendingRequests: pending.total, runningJobs: running.items };
    }
    const serverUrl = config.server.public_url ?? `${request.protocol}://${request.host}`;
    const mandatory = await mandatoryMemory(services.ctx, principal, 3);
    return DashboardPage({ ctx, data: { serverUrl, tables, stale, admin, mandatory } });
  });

  page(app, services, '/catalog', 'user', async (ctx, request) => {
    const query = request.query as Query;
    const filters: CatalogFilters = {
      search: (query.q ?? '').slice(0, 200),
      source: query.source ?? '',
      dataset: query.dataset ?? '',
      access: query.access === 'readable' || query.access === 'locked' ? query.access : 'all',
    };
    const all = await listCatalog(services.ctx, request.auth!.principal, { include_locked: true });
    const sources = [...new Set(all.map((t) => t.source))].sort();
    const datasets = [...new Set(all.map((t) => t.dataset))].sort();
    const tables = await listCatalog(services.ctx, request.auth!.principal, {
      include_locked: filters.access !== 'readable',
      ...(filters.search ? { search: filters.search } : {}),
      ...(filters.source ? { source: filters.source } : {}),
      ...(filters.dataset ? { dataset: filters.dataset } : {}),
    });
    const shown = filters.access === 'locked' ? tables.filter((t) => t.access !== 'read') : tables;
    return CatalogPage({ ctx, tables: shown, filters, sources, datasets });
  });

  page(app, services, '/catalog/:table_id', 'user', async (ctx, request) => {
    const principal = request.auth!.principal;
    const { table_id } = request.params as { table_id: string };
    const table = await tableDetail(services.ctx, principal, table_id);
    if (table.access !== 'read') return TablePage({ ctx, table, profile: null, history: [] });
    const [profile, history] = await Promise.all([
      readableProfile(services.ctx, principal, table_id).catch((error: unknown) => {
        if (isAgnesError(error) && error.code === 'not_found') return null;
        throw error;
      }),
      syncHistory(services.ctx, principal, { table_id }, { page: 1, per_page: 10 }),
    ]);
    return TablePage({ ctx, table, profile, history: history.entries });
  });

  page(app, services, '/sql', 'analyst+', async (ctx, request) => {
    const tables = await listCatalog(services.ctx, request.auth!.principal, {});
    const initial = (request.query as Query).q ?? 'SELECT 1';
    return SqlPage({ ctx, tables, initial: initial.slice(0, 100_000), maxLimit: config.query.max_limit });
  });

  page(app, services, '/alerts', 'analyst+', async (ctx, request) => {
    const principal = request.auth!.principal;
    const edit = (request.query as Query).edit;
    const [list, editing, telegram] = await Promise.all([
      listAlerts(services.ctx, principal, { all: false }),
      edit ? getAlert(services.ctx, principal, edit) : null,
      repos.telegram.getByUser(principal.id),
    ]);
    return AlertsPage({ ctx, alerts: list.alerts, editing, telegramLinked: telegram !== undefined });
  });

  page(app, services, '/account', 'user', async (ctx, request) => {
    const auth = request.auth!;
    const tokens = await repos.tokens.listByUser(auth.principal.id);
    return AccountPage({
      ctx,
      tokens,
      hasPassword: auth.user.password_hash !== null,
      maxExpiryDays: config.auth.pat.max_expiry_days,
      telegram: await telegramStatus(services.ctx, auth.principal.id),
    });
  });

  await adminPages(app, services);
  await memoryPages(app, services);
}

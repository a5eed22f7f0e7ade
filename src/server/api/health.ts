import { HealthDetailedSchema, HealthSchema } from '../../contract/index.js';
import { loadAccessView } from '../../core/access/access.js';
import type { PushSource } from '../../core/extract/push.js';
import type { Repositories } from '../../core/state/repositories/index.js';
import type { AgnesApp } from '../app.js';
import type { HealthMonitor } from '../health-monitor.js';
import { errors } from '../schemas.js';

/**
 * Public health (03 §3): no counts or names anonymously; 503 when unusable. The detailed view is
 * for signed-in users: stale tables only among those the caller can read, user counts only for admins.
 */
export async function healthRoutes(
  app: AgnesApp,
  deps: { monitor: HealthMonitor; version: string; repos: Repositories; jira?: PushSource | undefined },
): Promise<void> {
  const { monitor, version, repos, jira } = deps;

  app.get(
    '/api/health',
    {
      config: { auth: 'anon' },
      schema: {
        tags: ['health'],
        summary: 'Instance health',
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_request, reply) => {
      const snapshot = await monitor.snapshot();
      const body = { status: snapshot.status, version, timestamp: new Date().toISOString() };
      return reply.status(snapshot.status === 'unhealthy' ? 503 : 200).send(body);
    },
  );

  app.get(
    '/api/health/detailed',
    {
      config: { auth: 'user' },
      schema: {
        tags: ['health'],
        summary: 'Health of each part of the instance, as far as the caller may see it',
        response: { 200: HealthDetailedSchema, ...errors(401) },
      },
    },
    async (request) => {
      const principal = request.auth!.principal;
      const [snapshot, view, running, latest] = await Promise.all([
        monitor.snapshot(),
        loadAccessView(repos, principal),
        repos.jobs.list({ status: 'running' }, { page: 1, per_page: 1 }),
        repos.jobs.list({}, { page: 1, per_page: 1 }),
      ]);
      const last = latest.items[0];
      return {
        status: snapshot.status,
        version,
        timestamp: new Date().toISOString(),
        services: {
          state_db: snapshot.state_db,
          analytics: snapshot.analytics,
          data: {
            ...snapshot.data,
            stale_tables: snapshot.data.stale_tables.filter((id) => view.canRead(id).allowed),
          },
          sync: {
            running_jobs: running.total,
            last_job: last
              ? {
                  id: last.id,
                  kind: last.kind,
                  source: last.source,
                  status: last.status,
                  created_at: last.created_at,
                  finished_at: last.finished_at,
                }
              : null,
          },
          disk: snapshot.disk,
          ...(principal.role === 'admin' && jira?.health().configured
            ? { jira: await jiraHealth(jira) }
            : {}),
          ...(principal.role === 'admin' ? { users: { count: await repos.users.count() } } : {}),
          ...(principal.role === 'admin' ? { state_store: monitor.stateStore() } : {}),
          ...(principal.role === 'admin' ? { replica: monitor.replica() } : {}),
          ...(principal.role === 'admin' ? { replicas: await monitor.liveReplicas() } : {}),
        },
      };
    },
  );
}

async function jiraHealth(jira: PushSource) {
  const status = await jira.status();
  return {
    status: status.failed_events > 0 ? ('degraded' as const) : ('healthy' as const),
    queue_depth: status.queue_depth,
    last_event_at: status.last_event_at,
  };
}

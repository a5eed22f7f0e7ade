import { ConsistencyCheckRequestSchema, JiraStatusSchema, JobAcceptedSchema } from '../../contract/index.js';
import { AgnesError } from '../../core/errors.js';
import type { PushSource } from '../../core/extract/push.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors } from '../schemas.js';

/** Jira operations (03 §20): the status page's figures and the two repair jobs (07 §5.5). */
export async function jiraRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;
  const jira: PushSource | undefined = ctx.push.get('jira');
  const require = (): PushSource => {
    if (!jira) throw new AgnesError('jira_not_configured', 'Jira is not configured');
    return jira;
  };

  app.get(
    '/api/jira/status',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['jira'],
        summary: 'Queue depth, failed events, last event and the last consistency report',
        response: { 200: JiraStatusSchema, ...errors(401, 403) },
      },
    },
    async () =>
      jira
        ? jira.status()
        : {
            configured: false,
            queue_depth: 0,
            failed_events: 0,
            last_event_at: null,
            last_processed_at: null,
            last_consistency_report: null,
          },
  );

  app.post(
    '/api/jira/sla-poll',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['jira'],
        summary: 'Queue the SLA poll: refresh SLA fields of open issues',
        response: { 202: JobAcceptedSchema, ...errors(401, 403, 503) },
      },
    },
    async (request, reply) => {
      require().checkTask('jira_sla', undefined);
      request.audit = { action: 'jira.sla_poll' };
      const job = await ctx.jobs.enqueueTask('jira_sla', { requestedBy: request.auth!.principal.id });
      return reply.status(202).send({ job_id: job.id });
    },
  );

  app.post(
    '/api/jira/consistency-check',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['jira'],
        summary: 'Queue the consistency check: compare Jira, raw documents and Parquet, queue repairs',
        body: ConsistencyCheckRequestSchema,
        response: { 202: JobAcceptedSchema, ...errors(401, 403, 422, 503) },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      require().checkTask('jira_consistency', body);
      request.audit = { action: 'jira.consistency_check', params: { ...body } };
      const job = await ctx.jobs.enqueueTask('jira_consistency', {
        requestedBy: request.auth!.principal.id,
        params: body,
      });
      return reply.status(202).send({ job_id: job.id });
    },
  );
}

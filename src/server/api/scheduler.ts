import { SchedulerJobListSchema } from '../../contract/index.js';
import { schedulerJobs } from '../../core/usecases/scheduler.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors } from '../schemas.js';

/** The scheduler's view of the app (03 §21): what is scheduled and when each job last started. */
export async function schedulerRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;

  app.get(
    '/api/scheduler/jobs',
    {
      config: { auth: 'service', serviceRole: 'admin' },
      schema: {
        tags: ['scheduler'],
        summary: 'Scheduled jobs with their effective schedules, last starts and triggers',
        response: { 200: SchedulerJobListSchema, ...errors(401, 403) },
      },
    },
    async () => schedulerJobs(ctx, ctx.clock.now()),
  );
}

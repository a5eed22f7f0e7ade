import { MaintenanceReportSchema } from '../../contract/index.js';
import { runMaintenance } from '../../core/usecases/maintenance.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors } from '../schemas.js';

/** Maintenance on demand (03 §12); the scheduler calls it daily. Admins, and the scheduler's admin service account. */
export async function maintenanceRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;

  app.post(
    '/api/admin/maintenance',
    {
      // The run audits itself (with its counts), in-process runs included.
      config: { auth: 'admin', selfAudited: true },
      schema: {
        tags: ['admin'],
        summary: 'Prune what is past its retention period and expire knowledge past its review date',
        response: { 200: MaintenanceReportSchema, ...errors(401, 403) },
      },
    },
    async (request) => runMaintenance(ctx, request.auth!.principal.id),
  );
}

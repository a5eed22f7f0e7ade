import {
  MemoryContributorsRequestSchema,
  MemoryContributorsResultSchema,
  MemoryImportRequestSchema,
  MemoryImportResultSchema,
} from '../../contract/index.js';
import { activeUserIds, importMemory } from '../../core/usecases/memory-import.js';
import type { AgnesApp } from '../app.js';
import type { AppServices } from '../app-services.js';
import { errors } from '../schemas.js';

/**
 * What the corporate-memory collector submits (03 §13, 08 §4.1 step 8): candidate items in
 * batches of at most 100, and which upload owners are active users. The collector runs with a
 * service account holding km_admin, which the `km_admin+` label admits like any km_admin.
 */
export async function memoryImportRoutes(app: AgnesApp, services: AppServices): Promise<void> {
  const { ctx } = services;

  app.post(
    '/api/memory/admin/import',
    {
      config: { auth: 'km_admin+' },
      schema: {
        tags: ['memory'],
        summary: 'Import candidate knowledge items (deduplicated; status from approval_mode)',
        body: MemoryImportRequestSchema,
        response: { 200: MemoryImportResultSchema, ...errors(401, 403, 422) },
      },
    },
    async (request) => {
      const { result, contributors_dropped } = await importMemory(ctx, request.auth!.principal, request.body);
      request.audit = {
        action: 'km_import',
        resource: request.body.run_id,
        params: {
          items: request.body.items.length,
          created: result.created.length,
          updated: result.updated.length,
          skipped: result.skipped.length,
          contributors_dropped,
        },
      };
      return result;
    },
  );

  app.post(
    '/api/memory/admin/contributors',
    {
      config: { auth: 'km_admin+' },
      schema: {
        tags: ['memory'],
        summary: 'Which of these user ids are active users (the collector reads only their uploads)',
        body: MemoryContributorsRequestSchema,
        response: { 200: MemoryContributorsResultSchema, ...errors(401, 403, 422) },
      },
    },
    async (request) => {
      request.audit = { action: 'km_contributors', params: { asked: request.body.user_ids.length } };
      return { active: await activeUserIds(ctx, request.body.user_ids) };
    },
  );
}

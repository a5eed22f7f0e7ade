import type { Job } from '../../core/state/repositories/index.js';

/**
 * What the sync and registry routers share: the contract's job and rebuild-report schemas, and the
 * API's view of a job row.
 */

export { JobSchema, RebuildReportSchema, SourceReportSchema } from '../../contract/index.js';

export function jobView(job: Job) {
  return {
    id: job.id,
    kind: job.kind,
    source: job.source,
    tables: job.tables,
    status: job.status,
    requested_by: job.requested_by,
    created_at: job.created_at,
    started_at: job.started_at,
    finished_at: job.finished_at,
    report: job.report,
    error: job.error,
  };
}

import type { Job as JobView } from '../../contract/index.js';
import type { Job } from '../state/repositories/index.js';

/** The API's `Job` (03 §0.6 common shapes) of a stored job row, shared by the sync and registry answers. */
export function jobView(job: Job): JobView {
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
    claimed_by: job.claimed_by,
    heartbeat_at: job.heartbeat_at,
  };
}

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsistencyCheckRequest, JiraStatus } from '../../contract/jira.js';
import { AgnesError, errorMessage } from '../../core/errors.js';
import { EXTRACT_FILE, WRITE_LOCK_FILE } from '../../core/extract/contract.js';
import type { PushDeps, PushSource } from '../../core/extract/push.js';
import { acquireLock } from '../../core/fs/lock-file.js';
import type { RetryTuning } from '../../core/http/retry.js';
import type { TaskRun } from '../../core/jobs/runner.js';
import type { JobOutcome } from '../../core/state/repositories/index.js';
import type { JobKind } from '../../core/state/schema.js';
import { JiraClient, JiraError } from './client.js';
import { jiraSettings } from './config.js';
import { lastConsistencyReport, runConsistencyCheck } from './consistency.js';
import type { IssueFetcher } from './fetch-issue.js';
import { Inbox } from './inbox.js';
import { checkConfigured, receiveWebhook } from './intake.js';
import { Publisher } from './publisher.js';
import { RawStore } from './raw-store.js';
import { runSlaPoll } from './sla-poll.js';
import { tableColumns } from './tables.js';
import { JiraWorker } from './worker.js';

/** Test seams: shorter HTTP timings, a smaller batch. */
export interface JiraOptions {
  tuning?: Partial<RetryTuning>;
  batchSize?: number;
}

const SOURCE = 'jira';
/** How often processed events and long-deleted raw documents are pruned while the app runs. */
const PRUNE_INTERVAL_MS = 6 * 3_600_000;
/** The SLA poll waits up to a minute per 429 and retries an issue five times (07 §5.5). */
const SLA_TUNING: Partial<RetryTuning> = { retries: 5, maxRetryAfterMs: 60_000 };

function outcome(report: object): JobOutcome {
  return { status: 'succeeded', report: { ...report }, error: null };
}

function failure(error: unknown): JobOutcome {
  const code = error instanceof JiraError ? error.code : 'failed';
  return { status: 'failed', report: null, error: `${code}: ${errorMessage(error).slice(0, 200)}` };
}

/**
 * The Jira source inside the app (07 §5): the webhook intake, the worker draining the inbox, the
 * debounced publication, the SLA poll and the consistency check as job kinds, and the status.
 */
export function openJira(deps: PushDeps, options: JiraOptions = {}): PushSource {
  const settings = jiraSettings(deps.section);
  const jiraDir = join(deps.dataDir, 'jira');
  const extractDir = join(deps.dataDir, 'extracts', SOURCE);
  const inbox = new Inbox(jiraDir);
  const raw = new RawStore(jiraDir);
  const account = settings.account;
  const client = account ? new JiraClient(account, options.tuning) : null;
  const slaClient = account?.sla
    ? new JiraClient(account.sla, { ...options.tuning, ...SLA_TUNING })
    : account
      ? new JiraClient(account, { ...options.tuning, ...SLA_TUNING })
      : null;
  // The rebuild reads the extract while the worker would be rewriting it: a view bound against a
  // shard directory mid-change fails and drops out of that generation. Holding the source's write
  // lock keeps the two apart (and the full re-transform's child too).
  const publish = async () => {
    const lock = await acquireLock(join(extractDir, WRITE_LOCK_FILE), { waitMs: 10 * 60_000 });
    try {
      await deps.publish(SOURCE);
    } finally {
      await lock.release();
    }
  };
  const publisher = new Publisher(publish, settings.rebuildDebounceMs, deps.log);
  const fetcher: IssueFetcher | null = client
    ? {
        client,
        sla:
          account?.sla && slaClient
            ? {
                client: slaClient,
                fields: [
                  settings.transform.slaFields.first_response,
                  settings.transform.slaFields.time_to_resolution,
                ],
              }
            : null,
        raw,
        attachments: { download: settings.downloadAttachments, maxBytes: settings.maxAttachmentBytes },
        log: deps.log,
      }
    : null;
  const worker = fetcher
    ? new JiraWorker({
        inbox,
        raw,
        fetcher,
        extractDir,
        transform: settings.transform,
        columns: tableColumns(settings.transform.customFields),
        attempts: deps.repos.jiraEvents,
        retryBaseMs: settings.retryBaseMs,
        changed: () => publisher.changed(),
        log: deps.log,
        ...(deps.inboxPollMs ? { idlePollMs: deps.inboxPollMs } : {}),
        ...(options.batchSize ? { batchSize: options.batchSize } : {}),
      })
    : null;
  const intake = { webhookSecret: settings.webhookSecret, restConfigured: account !== null };
  const wake = () => worker?.wake();

  let pruneTimer: NodeJS.Timeout | null = null;
  const prune = async () => ({
    events: await inbox.prune(settings.eventRetentionDays),
    issues: await raw.pruneDeleted(settings.eventRetentionDays),
  });
  const pruneQuietly = async () => {
    try {
      const { events, issues } = await prune();
      if (events + issues > 0)
        deps.log.info({ events, issues }, 'jira: pruned processed events and deleted issues');
    } catch (error) {
      deps.log.warn({ err: errorMessage(error) }, 'jira: pruning failed');
    }
  };

  const slaPoll: TaskRun = async (_job, _params, signal) => {
    if (!slaClient) return failure(new AgnesError('jira_not_configured', 'Jira is not configured'));
    try {
      return outcome(
        await runSlaPoll({ raw, inbox, client: slaClient, transform: settings.transform, wake, signal }),
      );
    } catch (error) {
      return failure(error);
    }
  };
  const consistency: TaskRun = async (_job, params, signal) => {
    if (!client) return failure(new AgnesError('jira_not_configured', 'Jira is not configured'));
    const request = (params ?? {}) as ConsistencyCheckRequest;
    try {
      return outcome(
        await runConsistencyCheck({
          client,
          raw,
          inbox,
          jiraDir,
          extractDir,
          project: settings.project,
          maxAgeDays: request.max_age_days ?? settings.consistency.maxAgeDays,
          maxBackfill: settings.consistency.maxBackfill,
          wake,
          signal,
        }),
      );
    } catch (error) {
      return failure(error);
    }
  };

  return {
    service: {
      name: 'jira-worker',
      async start() {
        if (!worker) return;
        publisher.start();
        await pruneQuietly();
        pruneTimer = setInterval(() => void pruneQuietly(), PRUNE_INTERVAL_MS);
        pruneTimer.unref();
        // Shards a crashed run wrote but never published are published now.
        if (await stat(join(extractDir, EXTRACT_FILE)).catch(() => null)) publisher.changed();
        worker.start();
      },
      async stop() {
        if (pruneTimer) clearInterval(pruneTimer);
        pruneTimer = null;
        await worker?.stop();
        await publisher.flush();
        await publisher.stop();
      },
    },
    tasks: new Map<JobKind, TaskRun>([
      ['jira_sla', slaPoll],
      ['jira_consistency', consistency],
    ]),
    // Both jobs call the Jira REST API: without an account there is nothing to schedule.
    schedules: account
      ? [
          { kind: 'jira_sla', schedule: settings.slaSchedule, path: '/api/jira/sla-poll' },
          {
            kind: 'jira_consistency',
            schedule: settings.consistencySchedule,
            path: '/api/jira/consistency-check',
          },
        ]
      : [],
    prune,
    maxEventBytes: settings.maxEventBytes,
    checkConfigured: () => checkConfigured(intake),
    async receive(body, headers) {
      const answer = await receiveWebhook(intake, inbox, body, headers);
      if (answer.status === 'accepted') wake();
      return answer;
    },
    health: () => ({
      status: 'ok',
      configured: account !== null,
      webhook_secret_set: settings.webhookSecret !== null,
    }),
    async status(): Promise<JiraStatus> {
      return {
        configured: account !== null,
        queue_depth: (await inbox.list()).length,
        failed_events: await inbox.failedCount(),
        last_event_at: await inbox.lastEventAt(),
        last_processed_at: await inbox.lastProcessedAt(),
        last_consistency_report: await lastConsistencyReport(jiraDir),
      };
    },
    checkTask() {
      if (!account) throw new AgnesError('jira_not_configured', 'Jira is not configured');
    },
  };
}

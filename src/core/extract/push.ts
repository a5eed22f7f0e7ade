import type {
  ConsistencyCheckRequest,
  JiraStatus,
  JiraWebhookHealth,
  WebhookAnswer,
} from '../../contract/jira.js';
import type { Logger } from '../jobs/logger.js';
import type { TaskRun } from '../jobs/runner.js';
import type { Repositories } from '../state/repositories/index.js';
import type { JobKind } from '../state/schema.js';

/**
 * The in-app part of a push connector (07 §0 common model, §5): where a pull connector runs in an
 * extractor child per sync, a push connector receives webhooks, keeps a worker running beside the
 * app and brings job kinds of its own. The runtime opens it once and hands it to the server's
 * routes, so the server never imports a connector. Its shapes are those of the one push
 * connector, Jira (03 §20).
 */

/** What the runtime lends a push connector. */
export interface PushDeps {
  /** The connector's decoded configuration section, credentials included: this runs in the app only. */
  section: unknown;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  log: Logger;
  repos: Repositories;
  /** Publishes the source after its extract changed: `rebuildSource`, then profiles of the changed tables. */
  publish(source: string): Promise<void>;
  /**
   * Set when replicas share the store: webhooks reach the inbox through any of them, so the one
   * worker (led across replicas) also looks for events this often.
   */
  inboxPollMs?: number;
}

/** A job kind of the connector that runs on a schedule of its own (07 §5.5: the SLA poll, the consistency check). */
export interface PushSchedule {
  kind: JobKind;
  schedule: string;
  /** The admin route that queues it: the scheduler's trigger when it runs as its own process. */
  path: string;
}

/** What one pruning pass removed: processed events and raw documents of long-deleted issues. */
export interface PushPruned {
  events: number;
  issues: number;
}

export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>>;

export interface PushSource {
  /**
   * Runs beside the app: started after the job runner, stopped before it. One instance across
   * replicas (13 §3), so it may be stopped and started again as the lead moves.
   */
  readonly service: { name: string; start(): Promise<void>; stop(): Promise<void> };
  /** Job kinds this connector runs through the job runner, and their work. */
  readonly tasks: ReadonlyMap<JobKind, TaskRun>;
  /** Which of those tasks the scheduler starts, and when; empty when the connector cannot run them. */
  readonly schedules: readonly PushSchedule[];
  /** Removes what is past its retention period (maintenance, and the connector's own timer). */
  prune(): Promise<PushPruned>;
  /** Largest webhook body accepted, in bytes (the route's body limit). */
  readonly maxEventBytes: number;
  /** Throws the 503s of 03 §20 before the body is read. */
  checkConfigured(): void;
  /** Verifies and durably stores one delivery; throws AgnesError for every refusal. */
  receive(body: Buffer, headers: WebhookHeaders): Promise<WebhookAnswer>;
  health(): JiraWebhookHealth;
  status(): Promise<JiraStatus>;
  /** Validates a job request before it is queued (503 when the connector cannot run it). */
  checkTask(kind: JobKind, params: ConsistencyCheckRequest | undefined): void;
}

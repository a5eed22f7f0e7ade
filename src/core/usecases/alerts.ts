import type {
  AlertCondition,
  AlertList,
  AlertRunResult,
  AlertTestResult,
  SqlAlert as AlertView,
  CreateAlert,
  PatchAlert,
  QueryResult,
} from '../../contract/index.js';
import type { Principal } from '../access/decide.js';
import { principalOfUser } from '../access/principal.js';
import { hasRole } from '../access/roles.js';
import { isTextCondition, TEXT_OPERATORS } from '../alerts/condition.js';
import { ALERT_ROW_LIMIT, type Evaluation, evaluateResult } from '../alerts/evaluate.js';
import { isTooFrequentForAlert, MIN_ALERT_GAP_MINUTES } from '../alerts/spacing.js';
import type { InstanceConfig } from '../config/index.js';
import { AgnesError, isAgnesError } from '../errors.js';
import { type NotificationChannel, notifyUsers } from '../notifications/notify.js';
import type { PolicyEnforcement } from '../policies/enforce.js';
import type { QueryEngine } from '../query/engine.js';
import { parseSchedule, ScheduleError } from '../schedule/schedule.js';
import type { Alert, Repositories } from '../state/repositories/index.js';
import type { Clock } from '../time.js';
import { checkQuery, runQuery } from './query.js';

/**
 * Declarative SQL alerts (03 §16, 08 §7, §9): an analyst's query, a condition on its result and
 * a message, evaluated on a schedule through the one query guard with the owner's current rights.
 */

export interface AlertDeps {
  repos: Repositories;
  query: QueryEngine;
  config: InstanceConfig;
  clock: Clock;
  /** The owner's row policies bind every run (12 §3). */
  policies?: PolicyEnforcement;
}

/** At most this many alerts per owner (03 §16). */
export const MAX_ALERTS_PER_OWNER = 50;
/** Consecutive access errors after which an alert is disabled and its owner told (08 §7). */
export const ACCESS_ERRORS_TO_DISABLE = 3;
/** Rows of the result shown by `/test`. */
const PREVIEW_ROWS = 10;

/** Refusals that mean the owner can no longer read what the alert reads (a revoked grant, a lost role). */
const ACCESS_ERROR_CODES = new Set(['table_forbidden', 'unknown_table', 'forbidden', 'forbidden_role']);

const notFound = () => new AgnesError('not_found', 'alert not found');

function invalidField(path: string, message: string): AgnesError {
  return new AgnesError('validation_failed', 'request validation failed', {
    extra: { errors: [{ path, message }] },
  });
}

export function toAlertView(alert: Alert): AlertView {
  const { consecutive_errors: _errors, ...rest } = alert;
  return {
    ...rest,
    condition: alert.condition as AlertCondition,
    channels: alert.channels as AlertView['channels'],
    last_status: alert.last_status as AlertView['last_status'],
  };
}

/** The schedule and condition rules the schema cannot state (08 §9): 422 like a schema failure. */
function checkDefinition(deps: AlertDeps, fields: { schedule?: string; condition?: AlertCondition }): void {
  if (fields.schedule !== undefined) {
    let schedule: ReturnType<typeof parseSchedule>;
    try {
      schedule = parseSchedule(fields.schedule);
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      throw invalidField('/body/schedule', 'must be a schedule (every 1h, daily 06:00, cron, manual)');
    }
    if (isTooFrequentForAlert(schedule, deps.config.scheduler.timezone, deps.clock.now()))
      throw invalidField(
        '/body/schedule',
        `must not fire less than ${MIN_ALERT_GAP_MINUTES} minutes apart (every 5m at most)`,
      );
  }
  const { condition } = fields;
  if (condition === undefined) return;
  if (condition.type === 'row_count' && typeof condition.threshold !== 'number')
    throw invalidField('/body/condition/threshold', 'must be a number for a row_count condition');
  if (condition.type === 'row_count' && condition.column !== undefined)
    throw invalidField('/body/condition/column', 'applies to first_value conditions only');
  if (isTextCondition(condition) && !TEXT_OPERATORS.includes(condition.op))
    throw invalidField('/body/condition/op', 'must be == or != when the threshold is a string');
}

/** The owner as the access function sees them now: role, activity and groups read afresh. */
async function ownerPrincipal(repos: Repositories, ownerId: string): Promise<Principal | null> {
  const user = await repos.users.getById(ownerId);
  return user ? principalOfUser(repos, user) : null;
}

/** The owner, refused the way a request of theirs would be when they may no longer run SQL. */
async function sqlOwner(repos: Repositories, ownerId: string): Promise<Principal> {
  const owner = await ownerPrincipal(repos, ownerId);
  if (!owner?.active) throw new AgnesError('forbidden', "the alert's owner is no longer active");
  if (!hasRole(owner.role, 'analyst'))
    throw new AgnesError('forbidden_role', "the alert's owner may no longer run SQL");
  return owner;
}

/** The caller's own alert, or any alert for an admin (03 §0.1 `owner`); others' are missing (04 §6.2). */
async function visibleAlert(deps: AlertDeps, principal: Principal, id: string): Promise<Alert> {
  const alert = await deps.repos.alerts.get(id);
  if (!alert || (alert.owner_id !== principal.id && principal.role !== 'admin')) throw notFound();
  return alert;
}

export async function listAlerts(
  deps: AlertDeps,
  principal: Principal,
  input: { all: boolean },
): Promise<AlertList> {
  if (input.all && principal.role !== 'admin')
    throw new AgnesError('forbidden', 'only admins may list every alert');
  const alerts = await deps.repos.alerts.list(input.all ? undefined : principal.id);
  return { alerts: alerts.map(toAlertView), count: alerts.length };
}

export async function getAlert(deps: AlertDeps, principal: Principal, id: string): Promise<AlertView> {
  return toAlertView(await visibleAlert(deps, principal, id));
}

export async function createAlert(
  deps: AlertDeps,
  principal: Principal,
  input: CreateAlert & { requestId: string },
): Promise<AlertView> {
  const { requestId, ...fields } = input;
  checkDefinition(deps, fields);
  await checkQuery(deps, principal, { sql: fields.sql, requestId });
  if ((await deps.repos.alerts.countByOwner(principal.id)) >= MAX_ALERTS_PER_OWNER)
    throw new AgnesError('too_many_alerts', `you already have ${MAX_ALERTS_PER_OWNER} alerts`);
  return toAlertView(await deps.repos.alerts.create({ ...fields, owner_id: principal.id }));
}

export async function updateAlert(
  deps: AlertDeps,
  principal: Principal,
  id: string,
  input: PatchAlert & { requestId: string },
): Promise<AlertView> {
  const { requestId, ...patch } = input;
  const alert = await visibleAlert(deps, principal, id);
  checkDefinition(deps, patch);
  if (patch.sql !== undefined)
    await checkQuery(deps, await sqlOwner(deps.repos, alert.owner_id), { sql: patch.sql, requestId });
  const updated = await deps.repos.alerts.update(id, alert.owner_id, patch);
  if (!updated) throw notFound();
  return toAlertView(updated);
}

export async function deleteAlert(deps: AlertDeps, principal: Principal, id: string): Promise<void> {
  const alert = await visibleAlert(deps, principal, id);
  if (!(await deps.repos.alerts.delete(id, alert.owner_id))) throw notFound();
}

/** Runs the alert's SQL through the guard and the owner's sandbox, then judges the result. */
async function evaluate(
  deps: AlertDeps,
  alert: Alert,
  requestId: string,
): Promise<{ result: QueryResult; evaluation: Evaluation }> {
  const owner = await sqlOwner(deps.repos, alert.owner_id);
  const result = await runQuery(deps, owner, { sql: alert.sql, limit: ALERT_ROW_LIMIT, requestId });
  const evaluation = evaluateResult(
    {
      name: alert.name,
      condition: alert.condition as AlertCondition,
      message_template: alert.message_template,
    },
    result,
  );
  return { result, evaluation };
}

function notifyOwner(repos: Repositories, deps: AlertDeps, alert: Alert, title: string, message: string) {
  return notifyUsers(repos, deps.config, [alert.owner_id], {
    title,
    message,
    sourceKind: 'alert',
    sourceId: alert.id,
    channels: alert.channels as NotificationChannel[],
  });
}

/** The first rows of the result, marked truncated when there were more. */
function previewOf(result: QueryResult): QueryResult {
  if (result.rows.length <= PREVIEW_ROWS) return result;
  const rows = result.rows.slice(0, PREVIEW_ROWS);
  return { ...result, rows, row_count: rows.length, truncated: true, truncated_reason: 'rows' };
}

/**
 * `POST /api/alerts/{id}/test`: evaluates now, on enabled and disabled alerts alike, and notifies
 * only with `deliver` (08 §9). Nothing of the alert's run state changes; guard errors are answered
 * as they are (400/403/408).
 */
export async function testAlert(
  deps: AlertDeps,
  principal: Principal,
  id: string,
  input: { deliver: boolean; requestId: string },
): Promise<AlertTestResult> {
  const alert = await visibleAlert(deps, principal, id);
  const { result, evaluation } = await evaluate(deps, alert, input.requestId);
  if (!evaluation.ok) throw new AgnesError('bad_request', evaluation.error);
  let notificationId: string | null = null;
  if (input.deliver && evaluation.fired) {
    const [notification] = await notifyOwner(deps.repos, deps, alert, alert.name, evaluation.message);
    notificationId = notification?.id ?? null;
  }
  return {
    fired: evaluation.fired,
    row_count: evaluation.row_count,
    value: evaluation.value,
    message: evaluation.message,
    preview: previewOf(result),
    notification_id: notificationId,
  };
}

/**
 * Who runs an alert: a person (only its owner may), or the scheduler, which acts for every owner:
 * inside the app, or as a service account's PAT with the admin role (08 §9).
 */
export type AlertRunner = { scheduler: true } | { scheduler: false; principal: Principal };

async function runnableAlert(deps: AlertDeps, runner: AlertRunner, id: string): Promise<Alert> {
  const alert = await deps.repos.alerts.get(id);
  if (!alert) throw notFound();
  if (runner.scheduler || alert.owner_id === runner.principal.id) return alert;
  // A person who is an admin sees every alert, so for them it exists but is not theirs to run.
  if (runner.principal.role === 'admin')
    throw new AgnesError('forbidden', "only the alert's owner or the scheduler's service account may run it");
  throw notFound();
}

function errorResult(error: string): AlertRunResult {
  return { fired: false, suppressed_by_cooldown: false, notification_id: null, status: 'error', error };
}

/** Records an error run; the third access error in a row disables the alert and tells the owner. */
async function recordError(deps: AlertDeps, alert: Alert, detail: string, accessError: boolean) {
  await deps.repos.transaction(async (repos) => {
    const recorded = await repos.alerts.recordRun(alert.id, {
      status: 'error',
      error: detail,
      fired: false,
      accessError,
    });
    if (!accessError || !recorded?.enabled || recorded.consecutive_errors < ACCESS_ERRORS_TO_DISABLE) return;
    await repos.alerts.disable(alert.id);
    await notifyOwner(
      repos,
      deps,
      alert,
      `Alert disabled: ${alert.name}`,
      `The alert "${alert.name}" failed ${recorded.consecutive_errors} times in a row because its query ` +
        `may no longer read what it reads (${detail}). It is disabled; fix its SQL or ask for access, then enable it again.`,
    );
  });
}

function inCooldown(alert: Alert, now: Date): boolean {
  if (alert.last_fired_at === null) return false;
  return now.getTime() - new Date(alert.last_fired_at).getTime() < alert.cooldown_minutes * 60_000;
}

/**
 * `POST /api/alerts/{id}/run` (the scheduler's trigger): one evaluation, always recorded. An
 * evaluation error is an answer (`status: "error"`), not a failed request; a firing within the
 * cooldown is suppressed.
 */
export async function runAlert(
  deps: AlertDeps,
  runner: AlertRunner,
  id: string,
  requestId: string,
): Promise<AlertRunResult> {
  const alert = await runnableAlert(deps, runner, id);
  if (!alert.enabled) throw new AgnesError('alert_disabled', 'the alert is disabled');
  let evaluation: Evaluation;
  try {
    ({ evaluation } = await evaluate(deps, alert, requestId));
  } catch (error) {
    if (!isAgnesError(error)) throw error;
    await recordError(deps, alert, error.detail, ACCESS_ERROR_CODES.has(error.code));
    return errorResult(error.detail);
  }
  if (!evaluation.ok) {
    await recordError(deps, alert, evaluation.error, false);
    return errorResult(evaluation.error);
  }
  const { fired, message } = evaluation;
  return deps.repos.transaction(async (repos) => {
    // Read again inside the transaction, so two runs at once never both pass the cooldown.
    const current = (await repos.alerts.get(alert.id)) ?? alert;
    const suppressed = fired && inCooldown(current, deps.clock.now());
    let notificationId: string | null = null;
    if (fired && !suppressed) {
      const [notification] = await notifyOwner(repos, deps, current, current.name, message);
      notificationId = notification?.id ?? null;
    }
    await repos.alerts.recordRun(alert.id, { status: 'ok', error: null, fired: fired && !suppressed });
    return {
      fired: fired && !suppressed,
      suppressed_by_cooldown: suppressed,
      notification_id: notificationId,
      status: 'ok',
      error: null,
    };
  });
}

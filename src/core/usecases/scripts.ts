import type {
  AdHocScriptInput,
  DeployedScript,
  DeployScriptInput,
  RunResult,
  ScriptView,
} from '../../contract/index.js';
import type { Principal } from '../access/decide.js';
import type { InstanceConfig } from '../config/index.js';
import { AgnesError } from '../errors.js';
import { notifyUsers } from '../notifications/notify.js';
import { isValidSchedule } from '../schedule/schedule.js';
import { COOLDOWN_MS, parseScriptOutput, type ScriptOutput } from '../scripts/output.js';
import type { ScriptRunner, ScriptRunOutcome } from '../scripts/runner.js';
import type { Repositories, Script } from '../state/repositories/index.js';
import type { Clock } from '../time.js';

/**
 * Admin notification scripts (03 §15, 08 §6): deploy, list, run (deployed or ad hoc) and delete.
 * The runner decides whether and how a script may run; this turns its outcome into a run result,
 * the script's run record and the notifications its output asks for.
 */

export interface ScriptsDeps {
  repos: Repositories;
  config: InstanceConfig;
  scripts: ScriptRunner;
  clock: Clock;
}

const DEFAULT_TIMEOUT_SECONDS = 60;
const AD_HOC_NAME = 'ad-hoc';
const GROUP_PREFIX = 'group:';

type Problem = { path: string; message: string };

function invalid(problems: Problem[]): AgnesError {
  return new AgnesError('validation_failed', 'request validation failed', { extra: { errors: problems } });
}

function scriptsEnabled(config: InstanceConfig): void {
  if (!config.scripts.enabled)
    throw new AgnesError('scripts_disabled', 'scripts are disabled on this instance');
}

/** The limits deployed and ad-hoc scripts share: the timeout and the source size. */
function limitProblems(
  config: InstanceConfig,
  input: { source: string; timeout_seconds?: number },
): Problem[] {
  const problems: Problem[] = [];
  const { timeout_seconds: maxTimeout, max_source_bytes: maxSource } = config.scripts;
  if (input.timeout_seconds !== undefined && input.timeout_seconds > maxTimeout)
    problems.push({ path: '/body/timeout_seconds', message: `must be at most ${maxTimeout}` });
  if (Buffer.byteLength(input.source) > maxSource)
    problems.push({ path: '/body/source', message: `must be at most ${maxSource} bytes` });
  return problems;
}

export function scriptView(script: Script): ScriptView {
  const { last_output: _output, ...view } = script;
  return view;
}

export async function listScripts(deps: Pick<ScriptsDeps, 'repos'>): Promise<ScriptView[]> {
  return (await deps.repos.scripts.list()).map(scriptView);
}

/** Recipients that name no existing user or group (a typo would notify nobody, silently). */
async function unknownRecipients(repos: Repositories, recipients: readonly string[]): Promise<string[]> {
  const userIds = recipients.filter((r) => !r.startsWith(GROUP_PREFIX));
  const found = new Set((await repos.users.getMany(userIds)).map((u) => u.id));
  const unknown = userIds.filter((id) => !found.has(id));
  for (const recipient of recipients.filter((r) => r.startsWith(GROUP_PREFIX)))
    if (!(await repos.groups.getById(recipient.slice(GROUP_PREFIX.length)))) unknown.push(recipient);
  return unknown;
}

/** Deploys under a name; the same name replaces that script (keeping its id and run history). */
export async function deployScript(
  deps: Pick<ScriptsDeps, 'repos' | 'config'>,
  principal: Principal,
  input: DeployScriptInput,
): Promise<{ script: DeployedScript; created: boolean }> {
  const { repos, config } = deps;
  scriptsEnabled(config);
  const problems = limitProblems(config, input);
  if (input.schedule != null && !isValidSchedule(input.schedule))
    problems.push({
      path: '/body/schedule',
      message: 'must be a schedule (every 1h, daily 06:00, cron, manual)',
    });
  if (input.recipients && (await unknownRecipients(repos, input.recipients)).length > 0)
    problems.push({ path: '/body/recipients', message: 'must name existing users or group:<id>' });
  if (problems.length > 0) throw invalid(problems);
  const { script, created } = await repos.scripts.deploy({
    name: input.name,
    source: input.source,
    owner: principal.id,
    runtime: input.runtime ?? 'node',
    schedule: input.schedule?.trim() ?? null,
    ...(input.recipients ? { recipients: input.recipients } : {}),
    timeout_seconds: input.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS,
    enabled: input.enabled ?? true,
  });
  const { id, name, schedule, owner, runtime } = script;
  return { script: { id, name, schedule, owner, runtime }, created };
}

export async function deleteScript(deps: Pick<ScriptsDeps, 'repos'>, id: string): Promise<void> {
  if (!(await deps.repos.scripts.delete(id))) throw new AgnesError('not_found', 'script not found');
}

/** The active users among the recipients, groups expanded to their members. */
async function activeRecipients(repos: Repositories, recipients: readonly string[]): Promise<string[]> {
  const ids = new Set<string>();
  for (const recipient of recipients) {
    if (!recipient.startsWith(GROUP_PREFIX)) ids.add(recipient);
    else
      for (const member of await repos.groups.listMembers(recipient.slice(GROUP_PREFIX.length)))
        ids.add(member.id);
  }
  return (await repos.users.getMany([...ids])).filter((u) => u.active).map((u) => u.id);
}

interface Judged {
  output: ScriptOutput | null;
  output_error: RunResult['output_error'];
}

/** A run killed at its timeout has no verdict; otherwise stdout is held to the output contract. */
function judge(outcome: ScriptRunOutcome): Judged {
  if (outcome.timedOut) return { output: null, output_error: null };
  const parsed = parseScriptOutput(outcome.stdout);
  return { output: parsed.output, output_error: parsed.error };
}

function runResult(name: string, outcome: ScriptRunOutcome, judged: Judged, title: string): RunResult {
  const { output } = judged;
  return {
    name,
    exit_code: outcome.exitCode,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    truncated: outcome.truncated,
    timed_out: outcome.timedOut,
    duration_ms: outcome.durationMs,
    isolation: outcome.isolation,
    notification: output?.notify
      ? { notify: true, title: output.title?.trim() || title, message: output.message ?? '' }
      : null,
    output_error: judged.output_error,
  };
}

function runStatus(outcome: ScriptRunOutcome, judged: Judged): NonNullable<Script['last_status']> {
  if (outcome.timedOut) return 'timeout';
  return outcome.exitCode === 0 && judged.output_error === null ? 'ok' : 'error';
}

/** What the audit entry of a run records: how it ran, with a flag when it ran without the sandbox (08 §6). */
export function runAuditParams(result: RunResult): Record<string, unknown> {
  return {
    isolation: result.isolation,
    ...(result.isolation === 'none' ? { unisolated: true } : {}),
    exit_code: result.exit_code,
    timed_out: result.timed_out,
    output_error: result.output_error,
    notified: result.notification !== null,
  };
}

export interface RunOptions {
  /** Aborting kills the run (the in-process scheduler shutting down). */
  signal?: AbortSignal;
}

/**
 * Runs a deployed script now (03 §15): by an admin, or by the scheduler's service account. Its
 * start is stamped at once; a refusal is recorded as `refused`; a notification goes to each
 * active recipient that got none from this script within the output's cooldown.
 */
export async function runScript(deps: ScriptsDeps, id: string, options: RunOptions = {}): Promise<RunResult> {
  const { repos } = deps;
  const script = await repos.scripts.get(id);
  if (!script) throw new AgnesError('not_found', 'script not found');
  const startedAt = await repos.scripts.recordStart(id);
  let outcome: ScriptRunOutcome;
  try {
    outcome = await deps.scripts.run({
      source: script.source,
      runtime: script.runtime,
      timeoutSeconds: Math.min(script.timeout_seconds, deps.config.scripts.timeout_seconds),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if (error instanceof AgnesError)
      await repos.scripts.recordRun(id, {
        status: 'refused',
        output: null,
        duration_ms: 0,
        started_at: startedAt,
      });
    throw error;
  }
  const judged = judge(outcome);
  const result = runResult(script.name, outcome, judged, script.name);
  await repos.scripts.recordRun(id, {
    status: runStatus(outcome, judged),
    output: { stdout: outcome.stdout, stderr: outcome.stderr },
    duration_ms: outcome.durationMs,
    started_at: startedAt,
  });
  if (result.notification && judged.output) {
    const recipients = await activeRecipients(repos, script.recipients);
    const cooldown = judged.output.cooldown;
    const recent = cooldown
      ? await repos.scripts.notifiedSince(
          id,
          recipients,
          new Date(deps.clock.now().getTime() - COOLDOWN_MS[cooldown]).toISOString(),
        )
      : new Set<string>();
    await notifyUsers(
      repos,
      deps.config,
      recipients.filter((userId) => !recent.has(userId)),
      {
        title: result.notification.title,
        message: result.notification.message,
        sourceKind: 'script',
        sourceId: id,
      },
    );
  }
  return result;
}

/**
 * Runs source that is not deployed (03 §15), to try a script out: the same sandbox and limits, and
 * a notification only to the admin who ran it (no cooldown: nothing is stored to count from).
 */
export async function runAdHoc(
  deps: ScriptsDeps,
  principal: Principal,
  input: AdHocScriptInput,
): Promise<RunResult> {
  const { config } = deps;
  scriptsEnabled(config);
  if (input.source.trim() === '') throw new AgnesError('empty_source', 'the script source is empty');
  const problems = limitProblems(config, input);
  if (problems.length > 0) throw invalid(problems);
  const name = input.name ?? AD_HOC_NAME;
  const outcome = await deps.scripts.run({
    source: input.source,
    runtime: input.runtime ?? 'node',
    timeoutSeconds: input.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS,
  });
  const judged = judge(outcome);
  const result = runResult(name, outcome, judged, name);
  if (result.notification)
    await notifyUsers(deps.repos, config, [principal.id], {
      title: result.notification.title,
      message: result.notification.message,
      sourceKind: 'script',
      sourceId: null,
    });
  return result;
}

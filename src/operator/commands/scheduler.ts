import type { SchedulerJobList } from '../../contract/index.js';
import type { Logger } from '../../core/jobs/logger.js';
import { nextFire } from '../../core/schedule/fire-times.js';
import { SchedulerLoop, type SchedulerPort } from '../../core/schedule/loop.js';
import { parseSchedule } from '../../core/schedule/schedule.js';
import { loadInstance } from '../instance.js';
import { ServiceClient, ServiceRefusal, serviceEndpoint } from '../service-client.js';
import { exitAfterStop, stopSignal } from '../service-process.js';

/** What the app's refusals mean for the scheduler's account (08 §1.3 resilience). */
function explained(error: unknown): unknown {
  if (!(error instanceof ServiceRefusal)) return error;
  if (error.status === 401)
    return new Error('the app refused the token (401); it is re-read from AGNES_TOKEN_FILE at every tick');
  if (error.status === 403 && error.code === 'forbidden_role')
    return new Error("the scheduler's service account lacks the admin role (403)");
  if (error.status === 403)
    return new Error("the scheduler's token is not a service account's personal access token (403)");
  return error;
}

/** The scheduler's view of the app over HTTP: the job list and each trigger's own request. */
export function httpSchedulerPort(client: ServiceClient): SchedulerPort {
  return {
    async list() {
      let list: SchedulerJobList;
      try {
        list = (await client.get('/api/scheduler/jobs')) as SchedulerJobList;
      } catch (error) {
        throw explained(error);
      }
      return list.in_process ? null : list;
    },
    async fire(trigger) {
      try {
        await client.post(trigger.request.path, trigger.request.body ?? undefined);
      } catch (error) {
        throw explained(error);
      }
    },
  };
}

/** Pings `GET /api/health` every `scheduler.health_interval` and logs when the status changes. */
function watchHealth(client: ServiceClient, interval: string, timeZone: string, log: Logger): () => void {
  const schedule = parseSchedule(interval);
  if (schedule.kind === 'manual') return () => undefined;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let last: string | null = null;
  const delay = () => {
    if (schedule.kind === 'every') return schedule.minutes * 60_000;
    const now = new Date();
    return Math.max(
      (nextFire(schedule, now, timeZone)?.getTime() ?? now.getTime() + 3_600_000) - now.getTime(),
      0,
    );
  };
  const ping = async () => {
    const status = await client.health();
    if (status !== last) {
      const fields = { status, previous: last };
      if (status === 'healthy') log.info(fields, 'app health changed');
      else log.warn(fields, 'app health changed');
    }
    last = status;
    if (!stopped) timer = setTimeout(() => void ping(), delay());
  };
  void ping();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

/**
 * `agnes scheduler` (08 §1): triggers due jobs through the app's HTTP API with a service account's
 * token. It reads `instance.yaml` for its timing only; it never opens the state store and needs
 * no JWT secret, so all schedule state stays in the app and a restart of either loses nothing.
 */
export async function schedulerCommand(): Promise<never> {
  const instance = loadInstance({ syncLogs: true });
  const { scheduler } = instance.loaded.config;
  const endpoint = serviceEndpoint(instance.env);
  const log = instance.log.child({ service: 'scheduler' });
  const client = new ServiceClient(endpoint);
  const loop = new SchedulerLoop({
    port: httpSchedulerPort(client),
    tickMs: scheduler.tick_seconds * 1000,
    maxJitterSeconds: scheduler.max_jitter_seconds,
    log,
  });
  const signal = stopSignal();
  loop.start();
  const stopHealth = watchHealth(client, scheduler.health_interval, scheduler.timezone, log);
  log.info(
    { app: new URL(endpoint.apiUrl).origin, tick_seconds: scheduler.tick_seconds },
    'scheduler started',
  );
  log.info({ signal: await signal }, 'scheduler stopping');
  stopHealth();
  return exitAfterStop(log, 'scheduler', () => loop.stop());
}

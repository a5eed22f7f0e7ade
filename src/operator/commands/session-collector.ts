import { CycleLoop } from '../../services/cycle-loop.js';
import { runSessionCollector } from '../../services/session-collector/collector.js';
import { loadInstance } from '../instance.js';
import { exitAfterStop, STOP_GRACE_MS, stopSignal } from '../service-process.js';

/**
 * `agnes session-collector [--once]` (08 §5): files uploaded transcripts every
 * `session_collector.schedule`. It needs only DATA_DIR and instance.yaml: no token, no state store.
 * `--once` exits 0, or 1 when a file or user directory could not be handled.
 */
export async function sessionCollectorCommand(options: { once?: boolean }): Promise<number> {
  const instance = loadInstance({ syncLogs: true });
  const { config, dataDir } = instance.loaded;
  const log = instance.log.child({ service: 'session-collector' });
  const run = () =>
    runSessionCollector({
      dataDir,
      maxBytes: config.limits.upload_max_bytes,
      retentionDays: config.session_collector.retention_days,
      log,
    });
  if (options.once) return (await run()).errors > 0 ? 1 : 0;

  const loop = new CycleLoop({
    schedule: config.session_collector.schedule,
    timeZone: config.scheduler.timezone,
    cycle: run,
    log,
  });
  const signal = stopSignal();
  loop.start();
  log.info({ schedule: config.session_collector.schedule }, 'session collector started');
  log.info({ signal: await signal }, 'session collector stopping');
  return exitAfterStop(log, 'session collector', () => loop.stop(STOP_GRACE_MS));
}

import { NotificationDispatcher } from '../core/notifications/dispatcher.js';
import { ledByOneReplica } from './leadership.js';
import type { Runtime } from './runtime.js';
import type { Service } from './services.js';

/**
 * The outbox dispatcher inside `agnes serve` (08 §8): it delivers notifications to the Telegram
 * bot and the WebSocket gateway (maintenance prunes the inbox past `notifications.retention_days`).
 */
export function notificationServices(
  runtime: Pick<Runtime, 'repos' | 'config' | 'clock' | 'log' | 'env'>,
): Service[] {
  const dispatcher = new NotificationDispatcher({
    repos: runtime.repos,
    config: runtime.config,
    clock: runtime.clock,
    log: runtime.log.child({ service: 'notifications' }),
  });
  return [
    ledByOneReplica(runtime, {
      name: 'notification-dispatcher',
      start: async () => dispatcher.start(),
      stop: () => dispatcher.stop(),
    }),
  ];
}

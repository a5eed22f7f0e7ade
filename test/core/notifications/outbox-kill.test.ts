import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { InstanceConfig } from '../../../src/core/config/index.js';
import { notifyUsers } from '../../../src/core/notifications/notify.js';
import { openStateDb, type StateDb } from '../../../src/core/state/db.js';
import { migrateToLatest } from '../../../src/core/state/migrate.js';
import { createRepositories } from '../../../src/core/state/repositories/index.js';
import { DISPATCH_TOKEN, FakeNotificationReceivers } from '../../fakes/notification-receivers.js';
import { tempDir } from '../../support/extracts.js';
import { killIfRunning, until } from '../../support/processes.js';
import { type ServeProcess, startServe } from '../../support/serve-process.js';

/**
 * The outbox survives SIGKILL (08 §8: "the outbox survives restarts"; §9: exactly once per
 * channel): `agnes serve` (built with `npm run build`) is killed while its dispatcher delivers
 * through slow receivers, then started again. Every notification reaches both receivers, the bot
 * sends each one exactly once after its dedup by notification id, and only deliveries in flight at
 * the kill (at most one batch of parallel rows) are repeated.
 */

const JWT_SECRET = 'outbox-kill-test-secret-0123456789abcdef';
const USERS = 8;
const PER_USER = 5;
const TOTAL = USERS * PER_USER;
/** The dispatcher's rows in flight at once: the most a kill can leave claimed but unrecorded. */
const PARALLEL_ROWS = 8;

let receivers: FakeNotificationReceivers;
let dir: Awaited<ReturnType<typeof tempDir>>;
let dataDir: string;
let configDir: string;
let serve: ServeProcess | null = null;
let db: StateDb;
const ids: string[] = [];

beforeAll(async () => {
  receivers = await FakeNotificationReceivers.start();
  dir = await tempDir('agnes-outbox-kill-');
  dataDir = join(dir.path, 'data');
  configDir = join(dir.path, 'config');
  await mkdir(dataDir, { recursive: true });
  await mkdir(configDir, { recursive: true });
  const instance = {
    notifications: { dispatch_token: DISPATCH_TOKEN, retry_base_seconds: 1 },
    telegram: { dispatch_url: receivers.telegram.url },
    ws_gateway: { dispatch_url: receivers.gateway.url, public_url: 'ws://127.0.0.1:1/ws' },
  };
  await writeFile(join(configDir, 'instance.yaml'), stringify(instance));

  // The outbox as an app left it: users with Telegram links and open sockets, notifications pending.
  db = openStateDb(dataDir);
  await migrateToLatest(db);
  const repos = createRepositories(db);
  const config = instance as unknown as InstanceConfig;
  for (let u = 0; u < USERS; u++) {
    const user = await repos.users.create({ email: `user${u}@example.com`, role: 'viewer' });
    await repos.telegram.link(user.id, 5000 + u, null);
    receivers.online.set(user.id, 1);
    for (let n = 0; n < PER_USER; n++) {
      const [row] = await notifyUsers(repos, config, [user.id], {
        title: `Alert ${u}.${n}`,
        message: `Something happened <${n}>`,
        sourceKind: 'alert',
        sourceId: `alert-${u}`,
      });
      ids.push(row!.id);
    }
  }
});

afterAll(async () => {
  if (serve) await killIfRunning(serve);
  await db?.destroy();
  await receivers.close();
  await dir.cleanup();
});

async function start(): Promise<ServeProcess> {
  serve = await startServe({ cwd: dir.path, dataDir, configDir, jwtSecret: JWT_SECRET });
  return serve;
}

async function kill(): Promise<void> {
  if (!serve) return;
  serve.child.kill('SIGKILL');
  expect((await serve.exited).signal).toBe('SIGKILL');
  serve = null;
}

/** Rows with a channel still to deliver, read through the test's own connection. */
async function undelivered(): Promise<number> {
  const rows = await db
    .selectFrom('notifications')
    .select('id')
    .where((eb) => eb.or([eb('telegram_status', '!=', 'sent'), eb('ws_status', '!=', 'sent')]))
    .execute();
  return rows.length;
}

const repeats = (requested: string[]) => requested.length - new Set(requested).size;

describe('the notification outbox under SIGKILL', () => {
  it('delivers every notification after a restart, none twice after the bot’s dedup, none lost', async () => {
    expect(ids).toHaveLength(TOTAL);
    // Slow receivers, so the kill finds deliveries in flight.
    receivers.telegramFaults.push({ delayMs: 150, times: Number.POSITIVE_INFINITY });
    receivers.gatewayFaults.push({ delayMs: 150, times: Number.POSITIVE_INFINITY });
    await start();
    await until(async () => receivers.sentMessages.length >= 12, 'a dozen messages sent', 20_000);
    await kill();

    const leftAtKill = await undelivered();
    expect(leftAtKill, 'the kill interrupted the delivery').toBeGreaterThan(0);
    expect(leftAtKill).toBeLessThan(TOTAL);
    const recordedSent = new Set(
      (await db.selectFrom('notifications').select('id').where('telegram_status', '=', 'sent').execute()).map(
        (r) => r.id,
      ),
    );
    const requestedBeforeKill = new Set(receivers.sendRequests);

    receivers.telegramFaults.length = 0;
    receivers.gatewayFaults.length = 0;
    await start();
    await until(async () => (await undelivered()) === 0, 'every notification delivered', 30_000);
    await kill();

    // At least once: every id reached both receivers.
    expect(new Set(receivers.sendRequests)).toEqual(new Set(ids));
    expect(new Set(receivers.dispatchRequests)).toEqual(new Set(ids));
    expect(new Set(receivers.pushed.map((d) => d.notification.id))).toEqual(new Set(ids));
    // At most once after the bot's dedup: one Telegram message per notification.
    expect(receivers.sentMessages.map((m) => m.notification_id).sort()).toEqual([...ids].sort());
    // A row recorded as sent before the kill was never asked for again; only rows in flight were.
    expect(recordedSent.size).toBeGreaterThan(0);
    const requestCount = (id: string) => receivers.sendRequests.filter((r) => r === id).length;
    for (const id of recordedSent) expect(requestCount(id), id).toBe(1);
    const repeated = ids.filter((id) => requestCount(id) > 1);
    for (const id of repeated) expect(requestedBeforeKill.has(id) && !recordedSent.has(id), id).toBe(true);
    expect(repeats(receivers.sendRequests)).toBeLessThanOrEqual(PARALLEL_ROWS);
    expect(repeats(receivers.dispatchRequests)).toBeLessThanOrEqual(PARALLEL_ROWS);
    const rows = await db
      .selectFrom('notifications')
      .select(['telegram_status', 'ws_status', 'last_error'])
      .execute();
    expect(rows).toHaveLength(TOTAL);
    for (const row of rows)
      expect(row).toEqual({ telegram_status: 'sent', ws_status: 'sent', last_error: null });
  }, 90_000);
});

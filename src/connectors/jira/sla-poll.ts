import { setTimeout as sleep } from 'node:timers/promises';
import type { SlaReport } from '../../contract/jira.js';
import type { JiraClient } from './client.js';
import type { TransformSettings } from './config.js';
import { isObject } from './files.js';
import type { Inbox } from './inbox.js';
import type { RawStore } from './raw-store.js';
import { transformIssue } from './transform.js';

/**
 * The SLA poll (07 §5.5, §5.7): for every open issue with an SLA clock, fetch its SLA fields (and
 * status), write them into the raw document and queue an `agnes:sla_refresh` event, so the
 * transform runs through the normal path. At most 4 requests in flight and 5 starts per second.
 */

export interface SlaPollDeps {
  raw: RawStore;
  inbox: Inbox;
  /** The SLA account's client when `jira.sla` is configured, else the main one. */
  client: JiraClient;
  transform: TransformSettings;
  /** A new event is in the inbox. */
  wake(): void;
  signal?: AbortSignal;
}

const IN_FLIGHT = 4;
const STARTS_PER_SECOND = 5;

/** Spaces request starts so that no one-second window holds more than `perSecond` of them. */
class StartLimiter {
  readonly #starts: number[] = [];
  #turn: Promise<void> = Promise.resolve();

  constructor(private readonly perSecond: number) {}

  acquire(): Promise<void> {
    const next = this.#turn.then(async () => {
      for (;;) {
        const now = Date.now();
        while (this.#starts.length > 0 && now - (this.#starts[0] ?? 0) >= 1000) this.#starts.shift();
        if (this.#starts.length < this.perSecond) {
          this.#starts.push(now);
          return;
        }
        await sleep(1000 - (now - (this.#starts[0] ?? now)) + 1);
      }
    });
    this.#turn = next;
    return next;
  }
}

export async function runSlaPoll(deps: SlaPollDeps): Promise<SlaReport> {
  const { raw, transform } = deps;
  const slaIds = [transform.slaFields.first_response, transform.slaFields.time_to_resolution];
  const candidates: string[] = [];
  for (const key of await raw.keys()) {
    const doc = await raw.read(key).catch(() => null);
    if (!doc || doc._deleted_at) continue;
    const row = transformIssue(doc, transform).rows.issues[0] ?? {};
    const clock =
      row.first_response_elapsed_millis !== null || row.time_to_resolution_elapsed_millis !== null;
    if (row.status_category !== 'Done' && clock) candidates.push(key);
  }
  const report: SlaReport = { candidates: candidates.length, updated: 0, healed: 0, skipped: 0, failed: 0 };
  const limiter = new StartLimiter(STARTS_PER_SECOND);
  let next = 0;
  const worker = async () => {
    while (next < candidates.length && !deps.signal?.aborted) {
      const key = candidates[next++] as string;
      await limiter.acquire();
      let fields: Record<string, unknown>;
      try {
        fields = await deps.client.fields(key, [...slaIds, 'status']);
      } catch {
        report.failed += 1;
        continue;
      }
      const returned = slaIds.filter((id) => id in fields);
      const done =
        isObject(fields.status) && isObject(fields.status.statusCategory)
          ? fields.status.statusCategory.name === 'Done'
          : false;
      if (returned.length === 0 && !done) {
        report.skipped += 1;
        continue;
      }
      const changed = await raw.update(key, (current) => {
        if (!current || current._deleted_at) return null;
        const overlay = Object.fromEntries(
          [...returned, ...(isObject(fields.status) ? ['status'] : [])].map((id) => [id, fields[id]]),
        );
        const same = Object.entries(overlay).every(
          ([id, value]) => JSON.stringify(current.fields[id]) === JSON.stringify(value),
        );
        return same ? null : { ...current, fields: { ...current.fields, ...overlay } };
      });
      if (done) report.healed += 1;
      else if (changed) report.updated += 1;
      if (!changed) continue;
      await deps.inbox.append({
        ...deps.inbox.stamp(),
        event: 'agnes:sla_refresh',
        issue_key: key,
        issue_ids: [],
        payload: { source: 'sla_poll' },
      });
      deps.wake();
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, candidates.length) }, worker));
  return report;
}

import { CATEGORIES, categorySlug } from '../catalog.js';
import { type GenerationContext, rngFor, sortedMoments } from '../context.js';
import { csvBool, csvNumber, csvTimestamp } from '../csv-cells.js';
import type { CsvSink } from '../csv-sink.js';
import { campaignId, customerId, sessionId, visitorId } from '../ids.js';
import { COUNTRY_CHOICE } from '../people.js';
import type { TableSpec } from '../table-spec.js';
import { dayOf } from '../time-model.js';
import { WeightedChoice } from '../weighted.js';
import type { Campaigns } from './campaigns.js';
import type { Customers } from './customers.js';

export const WEB_SESSIONS: TableSpec = {
  name: 'web_sessions',
  columns: {
    session_id: 'VARCHAR',
    visitor_id: 'VARCHAR',
    customer_id: 'VARCHAR',
    campaign_id: 'VARCHAR',
    started_at: 'TIMESTAMP',
    duration_seconds: 'INTEGER',
    pages_viewed: 'INTEGER',
    device_type: 'VARCHAR',
    browser: 'VARCHAR',
    country: 'VARCHAR',
    landing_page: 'VARCHAR',
    is_bounce: 'BOOLEAN',
  },
};

const DEVICE = WeightedChoice.of({ desktop: 0.45, mobile: 0.45, tablet: 0.1 });
const BROWSER: Readonly<Record<string, WeightedChoice<string>>> = {
  desktop: WeightedChoice.of({ Chrome: 0.62, Edge: 0.14, Safari: 0.1, Firefox: 0.11, Opera: 0.03 }),
  mobile: WeightedChoice.of({ Chrome: 0.6, Safari: 0.32, 'Samsung Internet': 0.06, Firefox: 0.02 }),
  tablet: WeightedChoice.of({ Safari: 0.55, Chrome: 0.4, Firefox: 0.05 }),
};
const LANDING_PAGE = new WeightedChoice(
  ['/', '/sale', '/blog', '/search', ...CATEGORIES.map((category) => `/c/${categorySlug(category.name)}`)],
  [0.35, 0.1, 0.08, 0.05, ...CATEGORIES.map(() => 0.07)],
);
/** Pages of a non-bounce visit: 2…20, short visits most common. */
const PAGES = new WeightedChoice(
  Array.from({ length: 19 }, (_, i) => i + 2),
  Array.from({ length: 19 }, (_, i) => 0.8 ** i),
);
/** Anonymous visitors per anonymous session: most come back at least once. */
const ANONYMOUS_VISITOR_RATIO = 0.6;

export async function writeWebSessions(
  ctx: GenerationContext,
  customers: Customers,
  campaigns: Campaigns,
  sink: CsvSink,
): Promise<void> {
  const rng = rngFor(ctx, 'web_sessions');
  const count = ctx.counts.web_sessions;
  const moments = sortedMoments(ctx, rng, count);
  const anonymousVisitors = Math.max(1, Math.round(count * ANONYMOUS_VISITOR_RATIO));
  for (let i = 0; i < count; i++) {
    const startedAt = moments[i]!;
    const day = dayOf(startedAt);
    const customer = rng.chance(0.4) ? customers.pool.pick(rng, day) : null;
    const running = rng.chance(0.25) ? campaigns.runningOn(day) : [];
    const campaign = running.length > 0 ? rng.pick(running) : null;
    const bounce = rng.chance(0.35);
    const pages = bounce ? 1 : PAGES.pick(rng);
    const duration = bounce ? rng.int(5, 30) : pages * rng.int(20, 150) + rng.int(0, 59);
    const device = DEVICE.pick(rng);
    sink.row([
      sessionId(i + 1),
      visitorId(customer ?? customers.pool.count + rng.int(0, anonymousVisitors - 1)),
      customer === null ? '' : customerId(customer + 1),
      campaign === null ? '' : campaignId(campaign + 1),
      csvTimestamp(startedAt),
      csvNumber(duration),
      csvNumber(pages),
      device,
      BROWSER[device]!.pick(rng),
      (customer === null ? COUNTRY_CHOICE.pick(rng) : customers.countries[customer]!).code,
      campaign === null ? LANDING_PAGE.pick(rng) : `/lp/${campaignId(campaign + 1).toLowerCase()}`,
      csvBool(bounce),
    ]);
    if (sink.full) await sink.flush();
  }
}

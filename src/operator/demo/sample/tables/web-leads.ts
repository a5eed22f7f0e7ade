import { type GenerationContext, rngFor, sortedMoments } from '../context.js';
import { csvText, csvTimestamp } from '../csv-cells.js';
import type { CsvSink } from '../csv-sink.js';
import { campaignId, customerId, leadId } from '../ids.js';
import { COUNTRY_CHOICE, pickName, privateEmail } from '../people.js';
import type { TableSpec } from '../table-spec.js';
import { DAY_SECONDS, dayOf, HOUR_SECONDS } from '../time-model.js';
import { WeightedChoice } from '../weighted.js';
import type { Campaigns } from './campaigns.js';
import type { Customers } from './customers.js';

export const WEB_LEADS: TableSpec = {
  name: 'web_leads',
  columns: {
    lead_id: 'VARCHAR',
    customer_id: 'VARCHAR',
    email: 'VARCHAR',
    source: 'VARCHAR',
    campaign_id: 'VARCHAR',
    created_at: 'TIMESTAMP',
    status: 'VARCHAR',
    converted_at: 'TIMESTAMP',
  },
};

const SOURCE = WeightedChoice.of({
  website_form: 0.3,
  newsletter: 0.2,
  referral: 0.15,
  chat: 0.1,
  webinar: 0.1,
  partner: 0.1,
  trade_show: 0.05,
});
const STATUS = WeightedChoice.of({ new: 0.35, contacted: 0.2, qualified: 0.15, converted: 0.18, lost: 0.12 });
/** Converted leads convert within this long (07 §2.4 tables). */
const CONVERSION_WINDOW_SECONDS = 14 * DAY_SECONDS;

export async function writeWebLeads(
  ctx: GenerationContext,
  customers: Customers,
  campaigns: Campaigns,
  sink: CsvSink,
): Promise<void> {
  const rng = rngFor(ctx, 'web_leads');
  const count = ctx.counts.web_leads;
  const moments = sortedMoments(ctx, rng, count);
  for (let i = 0; i < count; i++) {
    const createdAt = moments[i]!;
    const day = dayOf(createdAt);
    const customer = rng.chance(0.55) ? customers.pool.pick(rng, day) : null;
    const running = rng.chance(0.4) ? campaigns.runningOn(day) : [];
    const campaign = running.length > 0 ? rng.pick(running) : null;
    const status = STATUS.pick(rng);
    const convertedAt =
      status === 'converted'
        ? ctx.time.followUp(createdAt, rng.int(HOUR_SECONDS, CONVERSION_WINDOW_SECONDS))
        : null;
    sink.row([
      leadId(i + 1),
      customer === null ? '' : customerId(customer + 1),
      csvText(
        customer === null
          ? privateEmail(rng, pickName(rng), COUNTRY_CHOICE.pick(rng))
          : customers.emails[customer]!,
      ),
      SOURCE.pick(rng),
      campaign === null ? '' : campaignId(campaign + 1),
      csvTimestamp(createdAt),
      status,
      csvTimestamp(convertedAt),
    ]);
    if (sink.full) await sink.flush();
  }
}

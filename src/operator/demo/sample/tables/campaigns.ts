import { type GenerationContext, rngFor } from '../context.js';
import { csvDate, csvMoney, csvNumber, csvText } from '../csv-cells.js';
import type { CsvSink } from '../csv-sink.js';
import { campaignId } from '../ids.js';
import type { Rng } from '../prng.js';
import type { TableSpec } from '../table-spec.js';
import { isoDay } from '../time-model.js';
import { WeightedChoice } from '../weighted.js';
import { CAMPAIGN_THEMES } from '../words.js';

export const CAMPAIGNS: TableSpec = {
  name: 'campaigns',
  columns: {
    campaign_id: 'VARCHAR',
    name: 'VARCHAR',
    channel: 'VARCHAR',
    status: 'VARCHAR',
    budget: 'DECIMAL(12,2)',
    spend: 'DECIMAL(12,2)',
    impressions: 'BIGINT',
    clicks: 'BIGINT',
    start_date: 'DATE',
    end_date: 'DATE',
    target_segment: 'VARCHAR',
  },
};

interface ChannelEconomics {
  label: string;
  /** Cost per thousand impressions (sends, for e-mail), in euros. */
  cpm: number;
  clickRate: number;
}

const CHANNELS: Readonly<Record<string, ChannelEconomics>> = {
  email: { label: 'Email', cpm: 1.5, clickRate: 0.025 },
  paid_search: { label: 'Paid Search', cpm: 30, clickRate: 0.035 },
  paid_social: { label: 'Paid Social', cpm: 9, clickRate: 0.012 },
  organic_social: { label: 'Organic Social', cpm: 2, clickRate: 0.015 },
  display: { label: 'Display', cpm: 3, clickRate: 0.004 },
  affiliate: { label: 'Affiliate', cpm: 6, clickRate: 0.01 },
  retargeting: { label: 'Retargeting', cpm: 7, clickRate: 0.008 },
};
const CHANNEL = WeightedChoice.of({
  email: 0.2,
  paid_search: 0.22,
  paid_social: 0.18,
  organic_social: 0.12,
  display: 0.12,
  affiliate: 0.08,
  retargeting: 0.08,
});
const TARGET_SEGMENT = WeightedChoice.of({ all: 0.4, b2c: 0.3, b2b_small: 0.15, b2b_enterprise: 0.15 });
/** Campaigns may have started this long before the window, so its first days have some running. */
const LEAD_IN_DAYS = 60;
/** A campaign ended more than this many days before the end date is `completed` (07 §2.4 tables). */
const COMPLETED_AFTER_DAYS = 7;

/** Which campaigns ran on each day, for attributing sessions and leads. */
export interface Campaigns {
  /** Campaign indices running on `day`; empty when none ran. */
  runningOn(day: number): readonly number[];
}

export async function writeCampaigns(ctx: GenerationContext, sink: CsvSink): Promise<Campaigns> {
  const rng = rngFor(ctx, 'campaigns');
  const { startDay, endDay } = ctx.time;
  const running: number[][] = Array.from({ length: endDay - startDay }, () => []);
  for (let i = 0; i < ctx.counts.campaigns; i++) {
    const first = rng.int(startDay - LEAD_IN_DAYS, endDay - COMPLETED_AFTER_DAYS - 1);
    const last = first + rng.int(7, 90) - 1;
    for (let day = Math.max(first, startDay); day <= Math.min(last, endDay - 1); day++) {
      running[day - startDay]!.push(i);
    }
    const channel = CHANNEL.pick(rng);
    const economics = CHANNELS[channel]!;
    const status = last < endDay - COMPLETED_AFTER_DAYS ? 'completed' : rng.chance(0.8) ? 'active' : 'paused';
    // 500–20,000 EUR in steps of 100, in cents.
    const budget = rng.int(5, 200) * 10_000;
    const spend = Math.round(budget * spentShare(rng, status, first, last, endDay));
    const impressions = Math.round((spend / 100 / economics.cpm) * 1000);
    const clicks = Math.round(impressions * economics.clickRate * (0.7 + rng.float() * 0.6));
    sink.row([
      campaignId(i + 1),
      csvText(`${rng.pick(CAMPAIGN_THEMES)} ${isoDay(first).slice(0, 4)} - ${economics.label}`),
      channel,
      status,
      csvMoney(budget),
      csvMoney(spend),
      csvNumber(impressions),
      csvNumber(clicks),
      csvDate(first),
      csvDate(last),
      TARGET_SEGMENT.pick(rng),
    ]);
    if (sink.full) await sink.flush();
  }
  return { runningOn: (day) => running[day - startDay] ?? [] };
}

/** Finished campaigns spent most of their budget; running ones about their elapsed share of it. */
function spentShare(rng: Rng, status: string, first: number, last: number, endDay: number): number {
  const pace = 0.75 + rng.float() * 0.25;
  if (status === 'completed') return pace;
  const elapsed = (Math.min(endDay, last + 1) - first) / (last + 1 - first);
  return pace * elapsed;
}

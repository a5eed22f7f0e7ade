/** The size table of 07 §2.2. */

export const SAMPLE_SIZES = ['xs', 's', 'm', 'l'] as const;
export type SampleSize = (typeof SAMPLE_SIZES)[number];

/** Tables whose row counts the size table fixes; `order_items` and `payments` follow from orders. */
export interface BaseCounts {
  customers: number;
  products: number;
  campaigns: number;
  web_sessions: number;
  web_leads: number;
  orders: number;
  support_tickets: number;
}

interface SizeRow extends BaseCounts {
  months: number;
}

const SIZE_TABLE: Readonly<Record<SampleSize, SizeRow>> = {
  xs: {
    customers: 50,
    products: 30,
    campaigns: 10,
    web_sessions: 500,
    web_leads: 50,
    orders: 100,
    support_tickets: 30,
    months: 3,
  },
  s: {
    customers: 500,
    products: 100,
    campaigns: 30,
    web_sessions: 10_000,
    web_leads: 1_000,
    orders: 2_000,
    support_tickets: 500,
    months: 12,
  },
  m: {
    customers: 5_000,
    products: 300,
    campaigns: 80,
    web_sessions: 100_000,
    web_leads: 10_000,
    orders: 20_000,
    support_tickets: 5_000,
    months: 24,
  },
  l: {
    customers: 50_000,
    products: 1_000,
    campaigns: 200,
    web_sessions: 1_000_000,
    web_leads: 100_000,
    orders: 200_000,
    support_tickets: 50_000,
    months: 36,
  },
};

export function isSampleSize(value: string): value is SampleSize {
  return (SAMPLE_SIZES as readonly string[]).includes(value);
}

/** Base counts × scale, rounded, at least 1 each; the time window (months) does not scale. */
export function resolveSize(size: SampleSize, scale: number): { counts: BaseCounts; months: number } {
  const { months, ...base } = SIZE_TABLE[size];
  const counts = { ...base };
  for (const key of Object.keys(counts) as (keyof BaseCounts)[]) {
    counts[key] = Math.max(1, Math.round(base[key] * scale));
  }
  return { counts, months };
}

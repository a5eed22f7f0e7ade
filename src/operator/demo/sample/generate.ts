import { performance } from 'node:perf_hooks';
import { AgnesError } from '../../../core/errors.js';
import type { GenerationContext } from './context.js';
import type { CsvSink } from './csv-sink.js';
import { buildManifest, type SampleManifest, writeManifest } from './manifest.js';
import { isSampleSize, resolveSize, type SampleSize } from './sizes.js';
import type { TableSpec } from './table-spec.js';
import { CAMPAIGNS, writeCampaigns } from './tables/campaigns.js';
import { CUSTOMERS, writeCustomers } from './tables/customers.js';
import { ORDER_ITEMS } from './tables/order-items.js';
import { ORDERS, writeOrders } from './tables/orders.js';
import { PAYMENTS } from './tables/payments.js';
import { PRODUCTS, writeProducts } from './tables/products.js';
import { SUPPORT_TICKETS, writeSupportTickets } from './tables/support-tickets.js';
import { WEB_LEADS, writeWebLeads } from './tables/web-leads.js';
import { WEB_SESSIONS, writeWebSessions } from './tables/web-sessions.js';
import { isoDay, parseIsoDay, TimeModel } from './time-model.js';
import { SAMPLE_FORMATS, type SampleFormat, SampleWriter } from './write.js';

export interface GenerateSampleOptions {
  outDir: string;
  size?: SampleSize;
  /** Multiplies every base row count (rounded, at least 1). */
  scale?: number;
  seed?: number;
  /** `YYYY-MM-DD`, exclusive: the data ends the day before. */
  endDate?: string;
  format?: SampleFormat;
}

export interface GenerateSampleResult {
  manifest: SampleManifest;
  /** The table files in manifest order, then `_manifest.json`. */
  files: string[];
  durationMs: number;
  totalRows: number;
}

/**
 * The deterministic sample data set of 07 §2: nine related tables of a small online shop, one file
 * each in `outDir`, plus `_manifest.json`. The same options and package version give the same bytes.
 */
export async function generateSampleData(options: GenerateSampleOptions): Promise<GenerateSampleResult> {
  const started = performance.now();
  const { size = 's', scale = 1, seed = 42, endDate = '2026-03-01', format = 'parquet' } = options;
  validate(size, scale, seed, format);
  const { counts, months } = resolveSize(size, scale);
  const time = new TimeModel(endDayOf(endDate), months);
  const ctx: GenerationContext = { seed, time, counts };
  const writer = await SampleWriter.open(options.outDir, format);
  try {
    const customers = await writeTable(writer, CUSTOMERS, (sink) => writeCustomers(ctx, sink));
    const products = await writeTable(writer, PRODUCTS, (sink) => writeProducts(ctx, sink));
    const campaigns = await writeTable(writer, CAMPAIGNS, (sink) => writeCampaigns(ctx, sink));
    await writeTable(writer, WEB_SESSIONS, (sink) => writeWebSessions(ctx, customers, campaigns, sink));
    await writeTable(writer, WEB_LEADS, (sink) => writeWebLeads(ctx, customers, campaigns, sink));
    const sinks = {
      orders: await writer.begin(ORDERS),
      items: await writer.begin(ORDER_ITEMS),
      payments: await writer.begin(PAYMENTS),
    };
    const orders = await writeOrders(ctx, customers, products, sinks);
    for (const sink of [sinks.orders, sinks.items, sinks.payments]) await writer.commit(sink);
    await writeTable(writer, SUPPORT_TICKETS, (sink) => writeSupportTickets(ctx, customers, orders, sink));
    const published = await writer.finish();
    const manifest = buildManifest(
      { size, scale, seed, endDate, startDate: isoDay(time.startDay) },
      published,
    );
    const files = [...published.map((table) => table.path), await writeManifest(options.outDir, manifest)];
    return { manifest, files, durationMs: performance.now() - started, totalRows: manifest.total_rows };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/** Opens a table's sink, runs its generator and commits the file. */
async function writeTable<T>(
  writer: SampleWriter,
  spec: TableSpec,
  generate: (sink: CsvSink) => Promise<T>,
): Promise<T> {
  const sink = await writer.begin(spec);
  const result = await generate(sink);
  await writer.commit(sink);
  return result;
}

function validate(size: string, scale: number, seed: number, format: string): void {
  if (!isSampleSize(size)) {
    throw new AgnesError('bad_request', `size must be one of xs, s, m, l (got ${size})`);
  }
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new AgnesError('bad_request', 'scale must be a positive number');
  }
  if (!Number.isSafeInteger(seed) || seed < 0) {
    throw new AgnesError('bad_request', 'seed must be a non-negative integer');
  }
  if (!(SAMPLE_FORMATS as readonly string[]).includes(format)) {
    throw new AgnesError('bad_request', `format must be parquet or csv (got ${format})`);
  }
}

function endDayOf(endDate: string): number {
  try {
    return parseIsoDay(endDate);
  } catch {
    throw new AgnesError('bad_request', `end date must be a calendar date YYYY-MM-DD (got ${endDate})`);
  }
}

import { CATEGORIES } from '../catalog.js';
import { type GenerationContext, rngFor } from '../context.js';
import { csvBool, csvDate, csvMoney, csvNumber, csvText } from '../csv-cells.js';
import type { CsvSink } from '../csv-sink.js';
import { appearanceDays, DatedPool } from '../dated-pool.js';
import { productId } from '../ids.js';
import type { Rng } from '../prng.js';
import type { TableSpec } from '../table-spec.js';
import { paretoWeights, WeightedChoice } from '../weighted.js';
import { COLOURS, COMPANY_STEMS } from '../words.js';

export const PRODUCTS: TableSpec = {
  name: 'products',
  columns: {
    product_id: 'VARCHAR',
    sku: 'VARCHAR',
    name: 'VARCHAR',
    category: 'VARCHAR',
    price: 'DECIMAL(12,2)',
    cost: 'DECIMAL(12,2)',
    weight_kg: 'DOUBLE',
    is_active: 'BOOLEAN',
    created_at: 'DATE',
  },
};

const CATEGORY = new WeightedChoice(
  CATEGORIES,
  CATEGORIES.map((category) => category.weight),
);
/** Retail price endings in cents: mostly x.99. */
const PRICE_ENDING = new WeightedChoice([99, 49, 0], [0.7, 0.15, 0.15]);
/** Most of a category's range holds its cheap items; a few dear ones reach the top. */
const PRICE_SKEW = 2;
/** Share of the catalogue listed before the window opened. */
const PREEXISTING_SHARE = 0.8;

/** What orders need to know about products; index i is product number i + 1. */
export interface Products {
  /** Listing days and popularity weights. */
  pool: DatedPool;
  /** Price in cents. */
  prices: Int32Array;
}

export async function writeProducts(ctx: GenerationContext, sink: CsvSink): Promise<Products> {
  const rng = rngFor(ctx, 'products');
  const count = ctx.counts.products;
  const days = appearanceDays(rng, ctx.time, count, PREEXISTING_SHARE);
  const prices = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const category = CATEGORY.pick(rng);
    const colour = category.coloured && rng.chance(0.7) ? `${rng.pick(COLOURS)} ` : '';
    const price =
      Math.floor(logScale(rng, category.minPrice, category.maxPrice, PRICE_SKEW)) * 100 +
      PRICE_ENDING.pick(rng);
    const costRatio = category.minCostRatio + rng.float() * (category.maxCostRatio - category.minCostRatio);
    const weightKg = Math.round(logScale(rng, category.minWeightKg, category.maxWeightKg) * 1000) / 1000;
    prices[i] = price;
    sink.row([
      productId(i + 1),
      `${category.code}-${skuNumber(i)}`,
      csvText(`${rng.pick(COMPANY_STEMS)} ${colour}${rng.pick(category.items)}`),
      csvText(category.name),
      csvMoney(price),
      csvMoney(Math.round(price * costRatio)),
      csvNumber(weightKg),
      csvBool(rng.chance(0.9)),
      csvDate(days[i]!),
    ]);
    if (sink.full) await sink.flush();
  }
  // Heavy-tailed popularity, and cheap items sell more often than dear ones.
  const popularity = paretoWeights(rngFor(ctx, 'products.popularity'), count);
  for (let i = 0; i < count; i++) popularity[i] = popularity[i]! / Math.sqrt(prices[i]!);
  return { pool: new DatedPool(days, popularity), prices };
}

/** Between `min` and `max` on a log scale; `skew` > 1 favours the low end further. */
function logScale(rng: Rng, min: number, max: number, skew = 1): number {
  return Math.exp(Math.log(min) + rng.float() ** skew * (Math.log(max) - Math.log(min)));
}

/** Unique by construction for up to 10^8 products: the multiplier is coprime with 10^8. */
function skuNumber(index: number): string {
  return String((index * 7_919_333 + 1_234_567) % 100_000_000).padStart(8, '0');
}

import { type GenerationContext, rngFor } from '../context.js';
import { csvMoney, csvNumber } from '../csv-cells.js';
import type { CsvSink } from '../csv-sink.js';
import { orderItemId, productId } from '../ids.js';
import type { Rng } from '../prng.js';
import type { TableSpec } from '../table-spec.js';
import { WeightedChoice } from '../weighted.js';
import type { Products } from './products.js';

export const ORDER_ITEMS: TableSpec = {
  name: 'order_items',
  columns: {
    order_item_id: 'VARCHAR',
    order_id: 'VARCHAR',
    product_id: 'VARCHAR',
    quantity: 'INTEGER',
    unit_price: 'DECIMAL(12,2)',
    discount_percent: 'INTEGER',
    line_total: 'DECIMAL(12,2)',
  },
};

/** Lines per order (07 §2.2 sizes), uniform. */
const MAX_LINES = 8;
const QUANTITY = new WeightedChoice([1, 2, 3, 4, 5], [75, 15, 6, 3, 1]);
const LINE_DISCOUNT = new WeightedChoice([0, 5, 10, 15, 20, 25], [80, 6, 6, 4, 3, 1]);
/** Redraws allowed per line when a popular product is drawn twice for the same order. */
const DRAWS_PER_LINE = 10;

/** Writes the lines of each order as it is generated, so no order is held in memory. */
export class OrderItemWriter {
  private readonly rng: Rng;
  private written = 0;

  constructor(
    ctx: GenerationContext,
    private readonly products: Products,
    private readonly sink: CsvSink,
  ) {
    this.rng = rngFor(ctx, 'order_items');
  }

  /** Writes 1–8 lines of distinct products listed by `day`; returns Σ line_total in cents. */
  write(order: string, day: number): number {
    const rng = this.rng;
    const wanted = Math.min(rng.int(1, MAX_LINES), this.products.pool.existingOn(day));
    const chosen: number[] = [];
    for (let draws = 0; chosen.length < wanted && draws < wanted * DRAWS_PER_LINE; draws++) {
      const product = this.products.pool.pick(rng, day);
      if (!chosen.includes(product)) chosen.push(product);
    }
    let itemsTotal = 0;
    for (const product of chosen) {
      const quantity = QUANTITY.pick(rng);
      const unitPrice = this.products.prices[product]!;
      const discountPercent = LINE_DISCOUNT.pick(rng);
      const lineTotal = Math.round((quantity * unitPrice * (100 - discountPercent)) / 100);
      itemsTotal += lineTotal;
      this.written += 1;
      this.sink.row([
        orderItemId(this.written),
        order,
        productId(product + 1),
        csvNumber(quantity),
        csvMoney(unitPrice),
        csvNumber(discountPercent),
        csvMoney(lineTotal),
      ]);
    }
    return itemsTotal;
  }
}

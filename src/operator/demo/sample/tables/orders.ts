import { type GenerationContext, rngFor, sortedMoments } from '../context.js';
import { csvMoney, csvTimestamp } from '../csv-cells.js';
import type { CsvSink } from '../csv-sink.js';
import { customerId, orderId } from '../ids.js';
import type { TableSpec } from '../table-spec.js';
import { dayOf } from '../time-model.js';
import { WeightedChoice } from '../weighted.js';
import type { Customers } from './customers.js';
import { OrderItemWriter } from './order-items.js';
import { PaymentWriter } from './payments.js';
import type { Products } from './products.js';

export const ORDERS: TableSpec = {
  name: 'orders',
  columns: {
    order_id: 'VARCHAR',
    customer_id: 'VARCHAR',
    created_at: 'TIMESTAMP',
    status: 'VARCHAR',
    items_total: 'DECIMAL(12,2)',
    discount_amount: 'DECIMAL(12,2)',
    shipping_amount: 'DECIMAL(12,2)',
    total_amount: 'DECIMAL(12,2)',
    channel: 'VARCHAR',
  },
};

const STATUS = WeightedChoice.of({
  delivered: 0.58,
  shipped: 0.15,
  confirmed: 0.1,
  pending: 0.04,
  cancelled: 0.08,
  returned: 0.05,
});
const CHANNEL = WeightedChoice.of({ web: 0.55, mobile_app: 0.3, marketplace: 0.1, phone: 0.05 });
/** Shipping fees in cents; orders from 100.00 ship free (07 §2.4 tables). */
const SHIPPING = new WeightedChoice([0, 399, 499, 599, 799, 999, 1299, 1599], [10, 15, 25, 20, 12, 10, 5, 3]);
const FREE_SHIPPING_FROM = 10_000;
const COUPON_PERCENT = new WeightedChoice([5, 10, 15, 20], [40, 35, 15, 10]);
const COUPON_SHARE = 0.2;

export interface OrderSinks {
  orders: CsvSink;
  items: CsvSink;
  payments: CsvSink;
}

/** What support tickets need to know about orders; index i is order number i + 1. */
export interface Orders {
  /** Customer index per order. */
  customers: Int32Array;
  /** Creation second per order, ascending. */
  createdAt: Float64Array;
}

/** Orders with their lines and payments, written together so the money adds up by construction. */
export async function writeOrders(
  ctx: GenerationContext,
  customers: Customers,
  products: Products,
  sinks: OrderSinks,
): Promise<Orders> {
  const rng = rngFor(ctx, 'orders');
  const count = ctx.counts.orders;
  const createdAt = sortedMoments(ctx, rng, count);
  const orderCustomers = new Int32Array(count);
  const items = new OrderItemWriter(ctx, products, sinks.items);
  const payments = new PaymentWriter(ctx, sinks.payments);
  const allSinks = [sinks.orders, sinks.items, sinks.payments];
  for (let i = 0; i < count; i++) {
    const created = createdAt[i]!;
    const customer = customers.pool.pick(rng, dayOf(created));
    orderCustomers[i] = customer;
    const order = orderId(i + 1);
    const itemsTotal = items.write(order, dayOf(created));
    const discount = rng.chance(COUPON_SHARE) ? Math.round((itemsTotal * COUPON_PERCENT.pick(rng)) / 100) : 0;
    const shipping = itemsTotal < FREE_SHIPPING_FROM ? SHIPPING.pick(rng) : 0;
    const total = itemsTotal - discount + shipping;
    const status = STATUS.pick(rng);
    sinks.orders.row([
      order,
      customerId(customer + 1),
      csvTimestamp(created),
      status,
      csvMoney(itemsTotal),
      csvMoney(discount),
      csvMoney(shipping),
      csvMoney(total),
      CHANNEL.pick(rng),
    ]);
    payments.write({
      order,
      customer: customerId(customer + 1),
      amount: total,
      orderStatus: status,
      orderCreatedAt: created,
    });
    for (const sink of allSinks) if (sink.full) await sink.flush();
  }
  return { customers: orderCustomers, createdAt };
}

import { type GenerationContext, rngFor } from '../context.js';
import { csvMoney, csvTimestamp } from '../csv-cells.js';
import type { CsvSink } from '../csv-sink.js';
import { paymentId } from '../ids.js';
import type { Rng } from '../prng.js';
import type { TableSpec } from '../table-spec.js';
import { DAY_SECONDS, HOUR_SECONDS, type TimeModel } from '../time-model.js';
import { WeightedChoice } from '../weighted.js';

export const PAYMENTS: TableSpec = {
  name: 'payments',
  columns: {
    payment_id: 'VARCHAR',
    order_id: 'VARCHAR',
    customer_id: 'VARCHAR',
    amount: 'DECIMAL(12,2)',
    currency: 'VARCHAR',
    method: 'VARCHAR',
    status: 'VARCHAR',
    created_at: 'TIMESTAMP',
    completed_at: 'TIMESTAMP',
  },
};

const METHOD = WeightedChoice.of({
  card: 0.55,
  paypal: 0.15,
  bank_transfer: 0.12,
  apple_pay: 0.08,
  google_pay: 0.06,
  cash_on_delivery: 0.04,
});
/** Orders whose first payment attempt failed (07 §2.2 sizes). */
const FAILED_ATTEMPT_SHARE = 0.05;

export interface OrderPayment {
  order: string;
  customer: string;
  /** Cents; every attempt is for the order's total. */
  amount: number;
  orderStatus: string;
  orderCreatedAt: number;
}

/** Writes each order's payments as the order is generated. */
export class PaymentWriter {
  private readonly rng: Rng;
  private readonly time: TimeModel;
  private written = 0;

  constructor(
    ctx: GenerationContext,
    private readonly sink: CsvSink,
  ) {
    this.rng = rngFor(ctx, 'payments');
    this.time = ctx.time;
  }

  write(payment: OrderPayment): void {
    const rng = this.rng;
    let createdAt = this.time.followUp(payment.orderCreatedAt, rng.int(5, 900));
    if (rng.chance(FAILED_ATTEMPT_SHARE)) {
      this.row(payment, METHOD.pick(rng), 'failed', createdAt, null);
      createdAt = this.time.followUp(createdAt, rng.int(60, HOUR_SECONDS));
    }
    const status =
      payment.orderStatus === 'cancelled'
        ? 'cancelled'
        : payment.orderStatus === 'returned'
          ? 'refunded'
          : 'completed';
    const method = METHOD.pick(rng);
    const settlement = method === 'bank_transfer' ? rng.int(HOUR_SECONDS, 3 * DAY_SECONDS) : rng.int(1, 120);
    const completedAt = status === 'cancelled' ? null : this.time.followUp(createdAt, settlement);
    this.row(payment, method, status, createdAt, completedAt);
  }

  private row(
    payment: OrderPayment,
    method: string,
    status: string,
    createdAt: number,
    completedAt: number | null,
  ): void {
    this.written += 1;
    this.sink.row([
      paymentId(this.written),
      payment.order,
      payment.customer,
      csvMoney(payment.amount),
      'EUR',
      method,
      status,
      csvTimestamp(createdAt),
      csvTimestamp(completedAt),
    ]);
  }
}

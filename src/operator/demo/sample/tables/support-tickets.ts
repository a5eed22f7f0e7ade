import { type GenerationContext, rngFor, sortedMoments } from '../context.js';
import { csvNumber, csvText, csvTimestamp } from '../csv-cells.js';
import type { CsvSink } from '../csv-sink.js';
import { customerId, orderId, ticketId } from '../ids.js';
import type { Rng } from '../prng.js';
import type { TableSpec } from '../table-spec.js';
import { DAY_SECONDS, dayOf, HOUR_SECONDS } from '../time-model.js';
import { upperBound, WeightedChoice } from '../weighted.js';
import { GENERAL_TICKET_SUBJECTS, ORDER_TICKET_SUBJECTS } from '../words.js';
import type { Customers } from './customers.js';
import type { Orders } from './orders.js';

export const SUPPORT_TICKETS: TableSpec = {
  name: 'support_tickets',
  columns: {
    ticket_id: 'VARCHAR',
    customer_id: 'VARCHAR',
    order_id: 'VARCHAR',
    category: 'VARCHAR',
    priority: 'VARCHAR',
    status: 'VARCHAR',
    channel: 'VARCHAR',
    subject: 'VARCHAR',
    created_at: 'TIMESTAMP',
    first_response_at: 'TIMESTAMP',
    resolved_at: 'TIMESTAMP',
    satisfaction_score: 'INTEGER',
  },
};

type Priority = 'low' | 'medium' | 'high' | 'critical';
const PRIORITY = WeightedChoice.of<Priority>({ low: 0.38, medium: 0.35, high: 0.2, critical: 0.07 });
/** 75% resolved or closed (07 §2.4 tables). */
const STATUS = WeightedChoice.of({
  resolved: 0.35,
  closed: 0.4,
  open: 0.1,
  in_progress: 0.1,
  waiting_on_customer: 0.05,
});
const CHANNEL = WeightedChoice.of({ email: 0.4, chat: 0.25, web_form: 0.2, phone: 0.15 });
const SATISFACTION = new WeightedChoice([1, 2, 3, 4, 5], [5, 8, 15, 32, 40]);
/** Categories of tickets about an order, and of the others; subjects come from words.ts. */
const ORDER_CATEGORY = WeightedChoice.of({
  shipping: 30,
  damaged_item: 15,
  return_request: 25,
  refund: 15,
  payment: 15,
});
const GENERAL_CATEGORY = WeightedChoice.of({ account: 30, technical: 25, product_question: 30, billing: 15 });
/** Delay ranges in seconds, tighter for urgent tickets. */
const FIRST_RESPONSE: Readonly<Record<Priority, readonly [number, number]>> = {
  critical: [300, 2 * HOUR_SECONDS],
  high: [900, 8 * HOUR_SECONDS],
  medium: [HOUR_SECONDS, DAY_SECONDS],
  low: [2 * HOUR_SECONDS, 3 * DAY_SECONDS],
};
const RESOLUTION: Readonly<Record<Priority, readonly [number, number]>> = {
  critical: [HOUR_SECONDS, DAY_SECONDS],
  high: [2 * HOUR_SECONDS, 3 * DAY_SECONDS],
  medium: [4 * HOUR_SECONDS, 5 * DAY_SECONDS],
  low: [8 * HOUR_SECONDS, 10 * DAY_SECONDS],
};
/** Tickets about an order mostly concern one placed within this long before. */
const RECENT_ORDER_SECONDS = 60 * DAY_SECONDS;

export async function writeSupportTickets(
  ctx: GenerationContext,
  customers: Customers,
  orders: Orders,
  sink: CsvSink,
): Promise<void> {
  const rng = rngFor(ctx, 'support_tickets');
  const moments = sortedMoments(ctx, rng, ctx.counts.support_tickets);
  for (let i = 0; i < moments.length; i++) {
    const createdAt = moments[i]!;
    const order = rng.chance(0.6) ? pickEarlierOrder(rng, orders, createdAt) : null;
    const customer = order === null ? customers.pool.pick(rng, dayOf(createdAt)) : orders.customers[order]!;
    const subjects = order === null ? GENERAL_TICKET_SUBJECTS : ORDER_TICKET_SUBJECTS;
    const category = (order === null ? GENERAL_CATEGORY : ORDER_CATEGORY).pick(rng);
    const priority = PRIORITY.pick(rng);
    const status = STATUS.pick(rng);
    const resolved = status === 'resolved' || status === 'closed';
    // Half of the open tickets still wait for a first answer; every other ticket has had one.
    const answered = status !== 'open' || rng.chance(0.5);
    const firstResponseAt = answered
      ? ctx.time.followUp(createdAt, rng.int(...FIRST_RESPONSE[priority]))
      : null;
    const resolvedAt =
      resolved && firstResponseAt !== null
        ? ctx.time.followUp(firstResponseAt, rng.int(...RESOLUTION[priority]))
        : null;
    sink.row([
      ticketId(i + 1),
      customerId(customer + 1),
      order === null ? '' : orderId(order + 1),
      category,
      priority,
      status,
      CHANNEL.pick(rng),
      csvText(rng.pick(subjects[category]!)),
      csvTimestamp(createdAt),
      csvTimestamp(firstResponseAt),
      csvTimestamp(resolvedAt),
      resolved && rng.chance(0.8) ? csvNumber(SATISFACTION.pick(rng)) : '',
    ]);
    if (sink.full) await sink.flush();
  }
}

/** An order placed before `second` (recent ones preferred); null when there is none yet. */
function pickEarlierOrder(rng: Rng, orders: Orders, second: number): number | null {
  const placed = upperBound(orders.createdAt, second - 1);
  if (placed === 0) return null;
  const recent = upperBound(orders.createdAt, second - RECENT_ORDER_SECONDS - 1, placed);
  return rng.int(recent < placed ? recent : 0, placed - 1);
}

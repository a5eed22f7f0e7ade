import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckSession } from '../../../../src/core/duckdb/engine.js';
import { queryRows } from '../../../../src/core/duckdb/engine.js';
import { generateSampleData } from '../../../../src/operator/demo/sample/generate.js';
import { TABLE_SPECS } from '../../../../src/operator/demo/sample/tables/specs.js';
import { makeTempDir, openSample, scalar, share, shares } from './sample-fixture.js';

/** Size `s`, seed 42: column types, money identities and the distributions of 07 §2.4. */

let dir: { path: string; cleanup: () => Promise<void> };
let duck: DuckSession;
let conn: DuckDBConnection;

beforeAll(async () => {
  dir = await makeTempDir();
  await generateSampleData({ outDir: dir.path, size: 's', seed: 42, endDate: '2026-03-01' });
  duck = await openSample(dir.path);
  conn = duck.conn;
});

afterAll(async () => {
  duck.close();
  await dir.cleanup();
});

const violations = (sql: string) => scalar(conn, `SELECT count(*) FROM (${sql})`);

/** Asserts each expected share within `tolerance` (absolute), and that no other value occurs. */
async function expectShares(
  table: string,
  column: string,
  expected: Record<string, number>,
  tolerance: number,
): Promise<void> {
  const actual = await shares(conn, table, column);
  expect([...actual.keys()].sort()).toEqual(Object.keys(expected).sort());
  for (const [value, target] of Object.entries(expected)) {
    expect(Math.abs((actual.get(value) ?? 0) - target), `${table}.${column} = ${value}`).toBeLessThan(
      tolerance,
    );
  }
}

describe('column types', () => {
  it.each(TABLE_SPECS.map((spec) => [spec.name, spec]))(
    '%s has the declared Parquet types',
    async (name, spec) => {
      const columns = await queryRows<{ column_name: string; column_type: string }>(
        conn,
        `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${name})`,
      );
      expect(Object.fromEntries(columns.map((c) => [c.column_name, c.column_type]))).toEqual(spec.columns);
      expect(Object.keys(spec.columns)).toEqual(columns.map((c) => c.column_name));
    },
  );
});

describe('money', () => {
  it('adds up: lines, order totals and payments', async () => {
    expect(
      await violations(
        'SELECT 1 FROM order_items WHERE line_total <> round(quantity * unit_price * (100 - discount_percent) / 100, 2)',
      ),
    ).toBe(0);
    expect(
      await violations(
        'SELECT 1 FROM orders JOIN (SELECT order_id, sum(line_total) AS lines FROM order_items GROUP BY 1) USING (order_id) WHERE items_total <> lines',
      ),
    ).toBe(0);
    expect(
      await violations(
        'SELECT 1 FROM orders WHERE total_amount <> items_total - discount_amount + shipping_amount',
      ),
    ).toBe(0);
    expect(
      await violations(
        'SELECT 1 FROM payments p JOIN orders o USING (order_id) WHERE p.amount <> o.total_amount',
      ),
    ).toBe(0);
    expect(
      await violations(
        'SELECT 1 FROM order_items i JOIN products p USING (product_id) WHERE i.unit_price <> p.price',
      ),
    ).toBe(0);
    expect(await violations("SELECT 1 FROM payments WHERE currency <> 'EUR'")).toBe(0);
  });

  it('charges shipping of 0–15.99 below 100.00 and none above', async () => {
    expect(
      await violations(
        'SELECT 1 FROM orders WHERE shipping_amount < 0 OR shipping_amount > 15.99 OR (items_total >= 100 AND shipping_amount > 0)',
      ),
    ).toBe(0);
    expect(
      await violations('SELECT 1 FROM orders WHERE discount_amount < 0 OR discount_amount > items_total'),
    ).toBe(0);
  });

  it('prices products above cost within their category ranges', async () => {
    expect(
      await violations('SELECT 1 FROM products WHERE cost <= 0 OR cost >= price OR weight_kg <= 0'),
    ).toBe(0);
    expect(await violations("SELECT 1 FROM products WHERE category = 'Books & Media' AND price > 80")).toBe(
      0,
    );
    expect(await scalar(conn, 'SELECT count(DISTINCT category) FROM products')).toBe(6);
  });
});

describe('customers', () => {
  it('follow the country, segment and activity weights', async () => {
    await expectShares(
      'customers',
      'country',
      {
        CZ: 0.25,
        DE: 0.15,
        US: 0.12,
        GB: 0.1,
        FR: 0.08,
        AT: 0.05,
        PL: 0.05,
        NL: 0.05,
        SK: 0.05,
        ES: 0.04,
        IT: 0.03,
        SE: 0.03,
      },
      0.05,
    );
    await expectShares('customers', 'segment', { b2c: 0.6, b2b_small: 0.25, b2b_enterprise: 0.15 }, 0.06);
    expect(await share(conn, 'customers', 'is_active')).toBeCloseTo(0.85, 1);
  });

  it('have a company exactly when they are a business', async () => {
    expect(await violations("SELECT 1 FROM customers WHERE (company IS NULL) <> (segment = 'b2c')")).toBe(0);
  });
});

describe('campaigns', () => {
  it('are completed exactly when they ended more than 7 days before the end date', async () => {
    expect(
      await violations(
        "SELECT 1 FROM campaigns WHERE (status = 'completed') <> (end_date < DATE '2026-03-01' - 7) OR start_date > end_date",
      ),
    ).toBe(0);
    expect(await violations('SELECT 1 FROM campaigns WHERE spend > budget OR clicks > impressions')).toBe(0);
  });
});

describe('web sessions and leads', () => {
  it('bounce 35% of the time with one page in 5–30 seconds', async () => {
    expect(await share(conn, 'web_sessions', 'is_bounce')).toBeCloseTo(0.35, 1);
    expect(
      await violations(
        'SELECT 1 FROM web_sessions WHERE is_bounce AND (pages_viewed <> 1 OR duration_seconds NOT BETWEEN 5 AND 30)',
      ),
    ).toBe(0);
    await expectShares('web_sessions', 'device_type', { desktop: 0.45, mobile: 0.45, tablet: 0.1 }, 0.03);
    expect(await share(conn, 'web_sessions', 'customer_id IS NOT NULL')).toBeCloseTo(0.4, 1);
    const attributed = await share(conn, 'web_sessions', 'campaign_id IS NOT NULL');
    expect(attributed).toBeGreaterThan(0.15);
    expect(attributed).toBeLessThanOrEqual(0.26);
  });

  it('convert leads within 14 days, and only converted ones', async () => {
    await expectShares(
      'web_leads',
      'status',
      { new: 0.35, contacted: 0.2, qualified: 0.15, converted: 0.18, lost: 0.12 },
      0.05,
    );
    expect(
      await violations(
        "SELECT 1 FROM web_leads WHERE (converted_at IS NOT NULL) <> (status = 'converted') OR converted_at > created_at + INTERVAL 14 DAY",
      ),
    ).toBe(0);
    expect(await share(conn, 'web_leads', 'customer_id IS NOT NULL')).toBeCloseTo(0.55, 1);
  });
});

describe('orders and payments', () => {
  it('follow the order status weights', async () => {
    await expectShares(
      'orders',
      'status',
      { delivered: 0.58, shipped: 0.15, confirmed: 0.1, pending: 0.04, cancelled: 0.08, returned: 0.05 },
      0.03,
    );
  });

  it('concentrate orders on a minority of customers (Pareto activity)', async () => {
    const top = await scalar(
      conn,
      `SELECT sum(n) / (SELECT count(*) FROM orders) FROM (
         SELECT count(*) AS n FROM orders GROUP BY customer_id ORDER BY n DESC LIMIT 100)`,
    );
    expect(top).toBeGreaterThan(0.4);
  });

  it('map order statuses to payment statuses, with 5% failed first attempts', async () => {
    expect(
      await violations(`SELECT 1 FROM payments p JOIN orders o USING (order_id) WHERE p.status <> 'failed' AND p.status <>
        CASE o.status WHEN 'cancelled' THEN 'cancelled' WHEN 'returned' THEN 'refunded' ELSE 'completed' END`),
    ).toBe(0);
    expect(
      await violations(
        "SELECT 1 FROM payments WHERE (completed_at IS NULL) <> (status IN ('failed', 'cancelled'))",
      ),
    ).toBe(0);
    const failed = await scalar(
      conn,
      "SELECT count(*) FILTER (status = 'failed') / count(DISTINCT order_id) FROM payments",
    );
    expect(failed).toBeCloseTo(0.05, 1);
  });
});

describe('support tickets', () => {
  it('follow the priority weights and resolve 75%', async () => {
    await expectShares(
      'support_tickets',
      'priority',
      { low: 0.38, medium: 0.35, high: 0.2, critical: 0.07 },
      0.06,
    );
    expect(await share(conn, 'support_tickets', "status IN ('resolved', 'closed')")).toBeCloseTo(0.75, 1);
    expect(await share(conn, 'support_tickets', 'order_id IS NOT NULL')).toBeCloseTo(0.6, 1);
  });

  it('are resolved and scored (1–5) only when resolved or closed', async () => {
    expect(
      await violations(`SELECT 1 FROM support_tickets WHERE
        (resolved_at IS NOT NULL) <> (status IN ('resolved', 'closed'))
        OR (satisfaction_score IS NOT NULL AND (resolved_at IS NULL OR satisfaction_score NOT BETWEEN 1 AND 5))
        OR (first_response_at IS NULL AND status <> 'open')`),
    ).toBe(0);
  });
});

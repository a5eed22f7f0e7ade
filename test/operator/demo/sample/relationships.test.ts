import type { DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DuckSession } from '../../../../src/core/duckdb/engine.js';
import { generateSampleData } from '../../../../src/operator/demo/sample/generate.js';
import { makeTempDir, openSample, scalar } from './sample-fixture.js';

/** Size `s`, seed 42, the demo's data set: every relationship and ordering rule of 07 §2.3–§2.4. */

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

/** Rows violating a rule; each rule is written as the query of its counter-examples. */
const violations = (sql: string) => scalar(conn, `SELECT count(*) FROM (${sql})`);

describe('keys', () => {
  it.each([
    ['customers', 'customer_id', '^C-\\d{6}$'],
    ['products', 'product_id', '^P-\\d{5}$'],
    ['campaigns', 'campaign_id', '^CMP-\\d{4}$'],
    ['web_sessions', 'session_id', '^S-\\d{8}$'],
    ['web_leads', 'lead_id', '^L-\\d{6}$'],
    ['orders', 'order_id', '^ORD-\\d{7}$'],
    ['order_items', 'order_item_id', '^OI-\\d{8}$'],
    ['payments', 'payment_id', '^PAY-\\d{7}$'],
    ['support_tickets', 'ticket_id', '^TKT-\\d{6}$'],
  ])('%s.%s is unique, non-null and formatted', async (table, column, pattern) => {
    expect(await scalar(conn, `SELECT count(*) - count(DISTINCT ${column}) FROM ${table}`)).toBe(0);
    expect(
      await violations(`SELECT 1 FROM ${table} WHERE NOT regexp_full_match(${column}, '${pattern}')`),
    ).toBe(0);
  });

  it('has unique customer e-mails and product SKUs', async () => {
    expect(await scalar(conn, 'SELECT count(*) - count(DISTINCT email) FROM customers')).toBe(0);
    expect(await scalar(conn, 'SELECT count(*) - count(DISTINCT sku) FROM products')).toBe(0);
  });
});

describe('relationships', () => {
  it.each([
    ['orders', 'customer_id', 'customers'],
    ['order_items', 'order_id', 'orders'],
    ['order_items', 'product_id', 'products'],
    ['payments', 'order_id', 'orders'],
    ['payments', 'customer_id', 'customers'],
    ['web_sessions', 'customer_id', 'customers'],
    ['web_sessions', 'campaign_id', 'campaigns'],
    ['web_leads', 'customer_id', 'customers'],
    ['web_leads', 'campaign_id', 'campaigns'],
    ['support_tickets', 'customer_id', 'customers'],
    ['support_tickets', 'order_id', 'orders'],
  ])('%s.%s references %s', async (table, column, parent) => {
    expect(
      await violations(
        `SELECT 1 FROM ${table} t ANTI JOIN ${parent} p ON t.${column} = p.${column} WHERE t.${column} IS NOT NULL`,
      ),
    ).toBe(0);
  });

  it('links payments and tickets to the customer of their order', async () => {
    expect(
      await violations(
        'SELECT 1 FROM payments p JOIN orders o USING (order_id) WHERE p.customer_id <> o.customer_id',
      ),
    ).toBe(0);
    expect(
      await violations(
        'SELECT 1 FROM support_tickets t JOIN orders o USING (order_id) WHERE t.customer_id <> o.customer_id',
      ),
    ).toBe(0);
  });

  it('attributes sessions only to campaigns running that day', async () => {
    expect(
      await violations(`SELECT 1 FROM web_sessions s JOIN campaigns c USING (campaign_id)
        WHERE s.started_at::DATE NOT BETWEEN c.start_date AND c.end_date`),
    ).toBe(0);
    expect(
      await violations(`SELECT 1 FROM web_leads l JOIN campaigns c USING (campaign_id)
        WHERE l.created_at::DATE NOT BETWEEN c.start_date AND c.end_date`),
    ).toBe(0);
  });

  it('gives every order 1–8 lines of distinct products', async () => {
    expect(await violations('SELECT 1 FROM orders ANTI JOIN order_items USING (order_id)')).toBe(0);
    expect(
      await violations(
        'SELECT order_id FROM order_items GROUP BY order_id HAVING count(*) > 8 OR count(DISTINCT product_id) <> count(*)',
      ),
    ).toBe(0);
  });

  it('gives every order exactly one non-failed payment', async () => {
    expect(
      await violations(`SELECT o.order_id FROM orders o LEFT JOIN payments p
        ON p.order_id = o.order_id AND p.status <> 'failed' GROUP BY o.order_id HAVING count(p.payment_id) <> 1`),
    ).toBe(0);
  });
});

describe('time ordering', () => {
  it.each([
    [
      'orders after the customer registered',
      'orders JOIN customers USING (customer_id)',
      'created_at < registration_date',
    ],
    [
      'payments after their order',
      'payments p JOIN orders o USING (order_id)',
      'p.created_at < o.created_at',
    ],
    ['payments completed after creation', 'payments', 'completed_at < created_at'],
    ['leads converted after creation', 'web_leads', 'converted_at < created_at'],
    ['first responses after creation', 'support_tickets', 'first_response_at < created_at'],
    ['resolutions after the first response', 'support_tickets', 'resolved_at < first_response_at'],
    [
      'tickets after their order',
      'support_tickets t JOIN orders o USING (order_id)',
      't.created_at <= o.created_at',
    ],
    [
      'sessions and leads after registration',
      '(SELECT customer_id, started_at AS moment FROM web_sessions UNION ALL SELECT customer_id, created_at FROM web_leads) JOIN customers USING (customer_id)',
      'moment < registration_date',
    ],
  ])('%s', async (_rule, from, violated) => {
    expect(await violations(`SELECT 1 FROM ${from} WHERE ${violated}`)).toBe(0);
  });

  it('keeps every event inside the window [start, end)', async () => {
    const outside = (table: string, column: string) =>
      violations(
        `SELECT 1 FROM ${table} WHERE ${column} < DATE '2025-03-06' OR ${column} >= DATE '2026-03-01'`,
      );
    for (const [table, columns] of [
      ['web_sessions', ['started_at']],
      ['web_leads', ['created_at', 'converted_at']],
      ['orders', ['created_at']],
      ['payments', ['created_at', 'completed_at']],
      ['support_tickets', ['created_at', 'first_response_at', 'resolved_at']],
    ] as const) {
      for (const column of columns) expect(await outside(table, column)).toBe(0);
    }
  });

  it('numbers orders, sessions, leads and tickets in time order', async () => {
    for (const [table, key, at] of [
      ['orders', 'order_id', 'created_at'],
      ['web_sessions', 'session_id', 'started_at'],
      ['web_leads', 'lead_id', 'created_at'],
      ['support_tickets', 'ticket_id', 'created_at'],
    ]) {
      expect(
        await violations(
          `SELECT 1 FROM (SELECT ${at} < lag(${at}) OVER (ORDER BY ${key}) AS back FROM ${table}) WHERE back`,
        ),
      ).toBe(0);
    }
  });
});

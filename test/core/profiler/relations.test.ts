import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relatedTables, usedByMetrics } from '../../../src/core/profiler/relations.js';
import { createFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures;
beforeAll(async () => {
  fx = await createFixtures();
});
afterAll(async () => {
  await fx.close();
});

describe('related tables', () => {
  it('finds belongs_to and has_many joins by key column names', async () => {
    const profile = await fx.profile('SELECT 1 AS order_id, 2 AS Customer_ID, 3 AS amount', {
      input: {
        tableId: 'orders',
        primaryKey: ['order_id'],
        relatedCandidates: [
          { tableId: 'customers', primaryKey: ['customer_id'], columns: ['customer_id', 'name'] },
          { tableId: 'order_lines', primaryKey: ['line_id'], columns: ['line_id', 'order_id', 'sku'] },
          { tableId: 'orders', primaryKey: ['order_id'], columns: ['order_id', 'customer_id'] },
          { tableId: 'unrelated', primaryKey: ['sku'], columns: ['sku'] },
        ],
        metricFiles: [
          { name: 'revenue', file: 'metrics/revenue.yml', tables: ['orders', 'order_lines'] },
          { name: 'churn', file: 'metrics/churn.yml', tables: ['customers'] },
        ],
      },
    });
    expect(profile.related_tables).toEqual([
      {
        table: 'customers',
        join_column: 'Customer_ID',
        foreign_column: 'customer_id',
        direction: 'belongs_to',
      },
      { table: 'order_lines', join_column: 'order_id', foreign_column: 'order_id', direction: 'has_many' },
    ]);
    expect(profile.used_by_metrics).toEqual([{ name: 'revenue', file: 'metrics/revenue.yml' }]);
  });

  it('ignores composite keys and tables keyed on the same name', () => {
    const table = { tableId: 'a', primaryKey: ['id'], columns: ['id', 'b_id', 'c_x'] };
    expect(
      relatedTables(table, [
        { tableId: 'b', primaryKey: ['id'], columns: ['id', 'a_id'] },
        { tableId: 'c', primaryKey: ['c_x', 'c_y'], columns: ['c_x', 'c_y'] },
      ]),
    ).toEqual([]);
  });

  it('lists no metrics when none mention the table', () => {
    expect(usedByMetrics('t', [{ name: 'm', file: 'm.yml', tables: ['u'] }])).toEqual([]);
  });
});

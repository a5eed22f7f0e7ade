import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { QueryGuard } from '../src/core/query/guard.js';
import { SqlParser } from '../src/core/query/sql-parser.js';
import type { TableAccess } from '../src/core/query/types.js';
import { type Benchmark, percentile } from './lib.js';

/** A 50-line analytical query: CTEs, joins, window functions, subqueries, CASE, set operations. */
const QUERY = `WITH recent AS (
  SELECT o.id, o.customer_id, o.amount, o.created_at
  FROM orders o
  WHERE o.created_at >= DATE '2026-01-01'
    AND o.status IN ('paid', 'shipped')
),
customers_ranked AS (
  SELECT c.id, c.region, c.segment,
         row_number() OVER (PARTITION BY c.region ORDER BY c.created_at) AS rn
  FROM customers c
),
totals AS (
  SELECT r.customer_id,
         sum(r.amount) AS total,
         count(*) AS orders,
         avg(r.amount) FILTER (WHERE r.amount > 0) AS avg_positive
  FROM recent r
  GROUP BY r.customer_id
  HAVING count(*) > 1
)
SELECT cr.region,
       cr.segment,
       t.total,
       t.orders,
       t.avg_positive,
       CASE
         WHEN t.total > 10000 THEN 'large'
         WHEN t.total > 1000 THEN 'medium'
         ELSE 'small'
       END AS bucket,
       rank() OVER (PARTITION BY cr.region ORDER BY t.total DESC) AS region_rank,
       lag(t.total) OVER (ORDER BY t.total) AS previous_total,
       (SELECT max(p.amount) FROM payments p WHERE p.customer_id = t.customer_id) AS max_payment,
       coalesce(nullif(cr.segment, ''), 'unknown') AS segment_label
FROM totals t
JOIN customers_ranked cr ON cr.id = t.customer_id
LEFT JOIN refunds rf
  ON rf.customer_id = t.customer_id
  AND rf.created_at >= DATE '2026-01-01'
WHERE cr.rn <= 100
  AND EXISTS (SELECT 1 FROM payments p2 WHERE p2.customer_id = t.customer_id)
  AND t.customer_id NOT IN (SELECT customer_id FROM refunds WHERE amount > 500)
GROUP BY ALL
QUALIFY region_rank <= 10
UNION ALL
SELECT 'total', NULL, sum(amount), count(*), NULL, NULL, NULL, NULL, NULL,
       NULL
FROM recent
ORDER BY 1, 3 DESC
LIMIT 500`;

const ACCESS: TableAccess = {
  readable: new Set(['orders', 'customers', 'payments', 'refunds']),
  isVisible: () => true,
};

const benchmark: Benchmark = {
  name: 'guard-cost',
  description: 'parse + tree walk of a 50-line analytical query, against SELECT 1 on a warm connection',
  async run(ctx) {
    const runs = ctx.smoke ? 20 : 2_000;
    const parser = await SqlParser.open();
    const guard = new QueryGuard(parser, { maxSqlBytes: 100 * 1024 });
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      if (QUERY.split('\n').length !== 50) throw new Error('the benchmark query must have 50 lines');
      const target: number[] = [];
      const baseline: number[] = [];
      for (let i = 0; i < 20; i++) {
        await guard.check(QUERY, ACCESS);
        await conn.runAndReadAll('SELECT 1');
      }
      for (let i = 0; i < runs; i++) {
        let start = performance.now();
        await guard.check(QUERY, ACCESS);
        target.push(performance.now() - start);
        start = performance.now();
        await conn.runAndReadAll('SELECT 1');
        baseline.push(performance.now() - start);
      }
      const p95 = percentile(target, 95);
      return [
        {
          metric: 'p95',
          target: p95,
          baseline: percentile(baseline, 95),
          unit: 'ms',
          op: '<=',
          limit: 2,
          ratio: p95,
          note: `absolute limit 2 ms, ratio = p95 guard time in ms; ${runs} interleaved runs; p50 ${percentile(target, 50).toFixed(3)} ms; guard/SELECT 1 p95 ratio ${(p95 / percentile(baseline, 95)).toFixed(2)}`,
        },
      ];
    } finally {
      conn.closeSync();
      instance.closeSync();
      parser.close();
    }
  },
};

export default benchmark;

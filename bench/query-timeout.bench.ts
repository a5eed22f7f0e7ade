import { performance } from 'node:perf_hooks';
import { type Benchmark, median } from './lib.js';
import { queryFixture } from './query-support.js';

// Three-way so that even the smoke size cannot finish within the timeout on a fast machine.
const RUNAWAY = 'SELECT sum(a.id * b.id * c.id) FROM facts a, facts b, facts c';

const benchmark: Benchmark = {
  name: 'query-timeout',
  description: 'response time of a runaway cross join through POST /api/query with timeout_seconds = 1',
  async run(ctx) {
    const runs = ctx.smoke ? 1 : 10;
    const fixture = await queryFixture(ctx.workDir, ctx.smoke ? 20_000 : 1_000_000, { timeout_seconds: 1 });
    try {
      // Warm: the sandbox exists, so each run measures the query and its interruption only.
      await fixture.query('SELECT 1');
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const start = performance.now();
        const response = await fixture.query(RUNAWAY);
        times.push(performance.now() - start);
        if (response.status !== 408) throw new Error(`expected 408, got ${response.status} ${response.body}`);
      }
      return [
        {
          metric: 'response',
          target: median(times),
          baseline: 1000,
          unit: 'ms',
          op: '<=',
          limit: 1.1,
          note: `median of ${runs}; max ${Math.max(...times).toFixed(0)} ms; baseline = the configured timeout`,
        },
      ];
    } finally {
      await fixture.close();
    }
  },
};

export default benchmark;

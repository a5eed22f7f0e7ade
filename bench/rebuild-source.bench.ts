import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Benchmark, median, timeRuns } from './lib.js';
import { openInstance, writeSource } from './support.js';

/** rebuildSource('jira') cost must not depend on how many other sources exist (02 §2.3). */
const benchmark: Benchmark = {
  name: 'rebuild-source',
  description: "rebuildSource('jira') with 50 other sources against the same source alone",
  async run(ctx) {
    const others = ctx.smoke ? 3 : 50;
    const crowded = join(ctx.workDir, 'crowded');
    const alone = join(ctx.workDir, 'alone');
    await mkdir(crowded, { recursive: true });
    await mkdir(alone, { recursive: true });
    for (const dir of [crowded, alone]) await writeSource(dir, 'jira', 6, 12);
    for (let s = 0; s < others; s++)
      await writeSource(crowded, `src${String(s).padStart(2, '0')}`, ctx.smoke ? 4 : 20);
    const runs = ctx.smoke ? 2 : 9;
    const measure = async (dataDir: string) => {
      const instance = await openInstance(dataDir);
      try {
        await instance.orchestrator.rebuild();
        await instance.orchestrator.rebuildSource('jira');
        return median(await timeRuns(runs, () => instance.orchestrator.rebuildSource('jira')));
      } finally {
        await instance.close();
      }
    };
    const target = await measure(crowded);
    const baseline = await measure(alone);
    return [
      {
        metric: 'duration',
        target,
        baseline,
        unit: 'ms',
        op: '<=',
        limit: 1.3,
        note: `${others} other sources, median of ${runs}`,
      },
    ];
  },
};

export default benchmark;

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
    const runs = ctx.smoke ? 2 : 15;
    const [crowdedInstance, aloneInstance] = await Promise.all([openInstance(crowded), openInstance(alone)]);
    try {
      for (const instance of [crowdedInstance, aloneInstance]) {
        await instance.orchestrator.rebuild();
        await instance.orchestrator.rebuildSource('jira');
      }
      // Interleaved, so drift in the machine's load hits target and baseline alike.
      const targets: number[] = [];
      const baselines: number[] = [];
      for (let i = 0; i < runs; i++) {
        targets.push(...(await timeRuns(1, () => crowdedInstance.orchestrator.rebuildSource('jira'))));
        baselines.push(...(await timeRuns(1, () => aloneInstance.orchestrator.rebuildSource('jira'))));
      }
      const target = median(targets);
      const baseline = median(baselines);
      return [
        {
          metric: 'duration',
          target,
          baseline,
          unit: 'ms',
          op: '<=',
          limit: 1.3,
          note: `${others} other sources, median of ${runs}, interleaved`,
        },
      ];
    } finally {
      await Promise.all([crowdedInstance.close(), aloneInstance.close()]);
    }
  },
};

export default benchmark;

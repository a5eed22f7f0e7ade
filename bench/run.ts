import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { version as duckdbVersion } from '@duckdb/node-api';
import { type Benchmark, formatMetric, header } from './lib.js';

const here = fileURLToPath(new URL('.', import.meta.url));

async function loadBenchmarks(): Promise<Benchmark[]> {
  const files = (await readdir(here)).filter((f) => f.endsWith('.bench.ts')).sort();
  const out: Benchmark[] = [];
  for (const file of files) {
    const module = (await import(join(here, file))) as { default: Benchmark };
    out.push(module.default);
  }
  return out;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const smoke = args.includes('--smoke');
  const names = args.filter((a) => !a.startsWith('--'));
  const all = await loadBenchmarks();
  const unknown = names.filter((n) => !all.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark: ${unknown.join(', ')}; known: ${all.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
  const selected = names.length > 0 ? all.filter((b) => names.includes(b.name)) : all;
  const pkg = JSON.parse(readFileSync(join(here, '..', 'package.json'), 'utf8')) as { version: string };
  console.log(
    header({ 'agnes-analyst': pkg.version, duckdb: duckdbVersion(), mode: smoke ? 'smoke' : 'full' }),
  );
  let failed = 0;
  for (const bench of selected) {
    const workDir = await mkdtemp(join(tmpdir(), `agnes-bench-${bench.name}-`));
    try {
      console.log(`# ${bench.name}: ${bench.description}`);
      const metrics = await bench.run({ smoke, workDir });
      for (const metric of metrics) console.log(formatMetric(bench.name, metric, smoke));
    } catch (error) {
      failed += 1;
      console.error(`BENCH ${bench.name} ERROR ${error instanceof Error ? error.stack : String(error)}`);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
  }
  process.exit(failed > 0 ? 1 : 0);
}

await main();

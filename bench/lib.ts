import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';

/** Shared plumbing for benchmarks: each measures its target and an in-run baseline and reports a ratio. */

export interface BenchContext {
  /** Tiny sizes: CI proves the benchmark runs and prints its lines; ratios are not judged. */
  smoke: boolean;
  /** A scratch directory for this benchmark, removed afterwards. */
  workDir: string;
}

export interface Metric {
  metric: string;
  target: number;
  baseline: number;
  unit: string;
  /** `<=`: smaller target is better (times, bytes); `>=`: larger is better (throughput). */
  op: '<=' | '>=';
  limit: number;
  /** Ratio override, when the limit is not on target/baseline (e.g. absolute limits). */
  ratio?: number;
  note?: string;
}

export interface Benchmark {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Metric[]>;
}

export function formatMetric(bench: string, m: Metric, smoke = false): string {
  const ratio = m.ratio ?? (m.baseline === 0 ? Number.POSITIVE_INFINITY : m.target / m.baseline);
  const pass = m.op === '<=' ? ratio <= m.limit : ratio >= m.limit;
  const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(3));
  const note = [m.note, smoke ? 'smoke run: tiny sizes, ratio not judged' : undefined]
    .filter(Boolean)
    .join('; ');
  return `BENCH ${bench}.${m.metric} target=${fmt(m.target)}${m.unit} baseline=${fmt(m.baseline)}${m.unit} ratio=${ratio.toFixed(3)} limit=${m.op}${m.limit} ${pass ? 'PASS' : 'FAIL'}${note ? ` (${note})` : ''}`;
}

export function header(versions: Record<string, string>): string {
  const cpu = cpus();
  const lines = [
    `# agnes benchmarks — ${new Date().toISOString()}`,
    `# cpu: ${cpu.length} × ${cpu[0]?.model ?? 'unknown'}; memory: ${(totalmem() / 1024 ** 3).toFixed(1)} GiB; node ${process.version}`,
    `# ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join('; ')}`,
  ];
  return lines.join('\n');
}

/** Runs `fn` `n` times and returns the durations in milliseconds. */
export async function timeRuns(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn();
    out.push(performance.now() - start);
  }
  return out;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export function median(values: number[]): number {
  return percentile(values, 50);
}

export interface Measured<T> {
  value: T;
  ms: number;
  /** Peak RSS of this process above its RSS when `fn` started, in bytes. */
  rssGrowth: number;
}

/** Runs `fn`, timing it and sampling this process's RSS every 10 ms (servers in the same process count). */
export async function measurePeakRss<T>(fn: () => Promise<T>): Promise<Measured<T>> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  const start = performance.now();
  try {
    const value = await fn();
    const ms = performance.now() - start;
    return { value, ms, rssGrowth: Math.max(peak, process.memoryUsage.rss()) - before };
  } finally {
    clearInterval(sampler);
  }
}

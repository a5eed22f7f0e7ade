import { type ChildProcess, spawn } from 'node:child_process';
import { basename } from 'node:path';
import { AGNES_BIN } from '../../src/core/package-info.js';

/** Child processes of the compiled binaries (run `npm run build` first), and waiting on them. */

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildRun {
  child: ChildProcess;
  /** Everything the process wrote to stdout so far. */
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves once the process has exited and closed its output. */
  exited: Promise<ProcessExit>;
  /**
   * Resolves with the first match of `pattern` in everything written to `stream`; rejects when the
   * process exits first or `timeoutMs` passes.
   */
  waitForOutput(stream: 'stdout' | 'stderr', pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
}

export interface SpawnOptions {
  /** The child's whole environment: nothing of this process's is passed on unless given here. */
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to stdin, which is then closed; without it stdin is /dev/null. */
  input?: string;
}

/** `vars` plus this process's PATH, HOME and TMPDIR, which a child needs to run at all. */
export function hostEnv(vars: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...vars };
  for (const key of ['PATH', 'HOME', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key];
  return env;
}

/** Starts `node SCRIPT ARGS`, collecting its output. */
export function spawnNode(script: string, args: string[], options: SpawnOptions): ChildRun {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end(options.input);
  const output = { stdout: '', stderr: '' };
  let exit: ProcessExit | null = null;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]!.setEncoding('utf8').on('data', (chunk: string) => {
      output[stream] += chunk;
      notify();
    });
  }
  const exited = new Promise<ProcessExit>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
      notify();
    });
  });
  return {
    child,
    get stdout() {
      return output.stdout;
    },
    get stderr() {
      return output.stderr;
    },
    exited,
    waitForOutput(stream, pattern, timeoutMs) {
      const seen = () => `${output.stdout}${output.stderr}`;
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output[stream]);
          if (match) done(null, match);
          else if (exit)
            done(
              new Error(`${basename(script)} exited (${JSON.stringify(exit)}) before ${pattern}: ${seen()}`),
            );
        };
        const timer = setTimeout(
          () => done(new Error(`no ${pattern} on ${stream} within ${timeoutMs} ms: ${seen()}`)),
          timeoutMs,
        );
        const done = (error: Error | null, match?: RegExpExecArray) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (error) reject(error);
          else resolve(match!);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Starts the compiled `agnes ARGS`. */
export function spawnAgnes(args: string[], options: SpawnOptions): ChildRun {
  return spawnNode(AGNES_BIN, args, options);
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `agnes ARGS` to its end; SIGKILLed (code null) if it is still running after `killAfterMs`. */
export async function runAgnes(
  args: string[],
  options: SpawnOptions & { killAfterMs: number },
): Promise<RunResult> {
  const run = spawnAgnes(args, options);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), options.killAfterMs);
  const { code } = await run.exited.finally(() => clearTimeout(timer));
  return { code, stdout: run.stdout, stderr: run.stderr };
}

/** SIGKILLs the process unless it has ended, then waits for it: the cleanup after a test. */
export async function killIfRunning(run: { child: ChildProcess; exited: Promise<unknown> }): Promise<void> {
  if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  await run.exited;
}

/** `promise`, or a rejection naming `what` once `ms` pass first. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `probe` until it returns something truthy, failing after `ms`: for state another process changes. */
export async function until<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  ms = 10_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * PIDs of this process's direct children whose command line contains every one of `args` (read
 * from /proc): for a child the app spawned itself, such as the extractor of a sync job.
 */
export async function childPids(args: readonly string[]): Promise<number[]> {
  const { readdir, readFile } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await readFile(`/proc/${entry}/status`, 'utf8');
      if (Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]) !== process.pid) continue;
      const cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0');
      if (args.every((arg) => cmdline.includes(arg))) pids.push(Number(entry));
    } catch {
      // The process ended while being read.
    }
  }
  return pids;
}

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ExtractInput, ExtractResult } from '../extract/connector.js';

/** How to start `agnes extract --stdin-config` (the app passes its own executable). */
export interface ExtractorCommand {
  command: string;
  args: string[];
}

export interface ChildOutcome {
  exitCode: number | null;
  result: ExtractResult | null;
  /** Why no result arrived (crash, timeout, unreadable output); never contains secrets from stdin. */
  error: string | null;
  timedOut: boolean;
}

export interface ChildOptions {
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
  onProgress?: (line: string) => void;
  /** Aborting kills the child (graceful shutdown). */
  signal?: AbortSignal;
}

const KILL_GRACE_MS = 5_000;

function parseResult(line: string | undefined): ExtractResult | null {
  if (!line) return null;
  try {
    const parsed = JSON.parse(line) as ExtractResult;
    return Array.isArray(parsed.tables_extracted) && Array.isArray(parsed.tables_failed) ? parsed : null;
  } catch {
    return null;
  }
}

/**
 * Runs one extractor in a child process: the input goes in on stdin (so secrets never appear in
 * the process list), progress lines come back on stderr, the result is the last stdout line.
 * The child is killed after `timeoutMs`; its leftovers are temp files the next run removes.
 */
export function runExtractorChild(
  command: ExtractorCommand,
  input: ExtractInput,
  options: ChildOptions,
): Promise<ChildOutcome> {
  return new Promise((resolvePromise) => {
    const child = spawn(command.command, command.args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let lastLine: string | undefined;
    let timedOut = false;
    let settled = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.trim()) lastLine = line;
    });
    createInterface({ input: child.stderr }).on('line', (line) => options.onProgress?.(line.slice(0, 500)));
    const kill = () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS).unref();
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);
    timer.unref();
    options.signal?.addEventListener('abort', kill, { once: true });
    const finish = (outcome: ChildOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', kill);
      resolvePromise(outcome);
    };
    child.on('error', () =>
      finish({ exitCode: null, result: null, error: 'extractor could not be started', timedOut }),
    );
    child.on('close', (code, signal) => {
      const result = parseResult(lastLine);
      let error: string | null = null;
      if (timedOut) error = `extractor timed out after ${Math.round(options.timeoutMs / 1000)} s`;
      else if (!result)
        error = signal
          ? `extractor was killed by ${signal}`
          : `extractor exited with code ${code} without a result`;
      finish({ exitCode: code, result, error, timedOut });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(`${JSON.stringify(input)}\n`);
  });
}

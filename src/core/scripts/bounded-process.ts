import { spawn } from 'node:child_process';
import { CappedOutput } from './capped-output.js';

export interface BoundedProcessOptions {
  cwd: string;
  env: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Per stream: stdout and stderr are capped separately. */
  maxOutputBytes: number;
  /** Aborting kills the process group at once (the app is shutting down). */
  signal?: AbortSignal;
}

export interface BoundedOutcome {
  /** Null when the process was killed by a signal (the timeout among them). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

/** After the process exits, how long its streams may stay open (a leftover child holding the pipe). */
const STREAM_GRACE_MS = 1_000;

/** SIGKILL to the whole process group; a group that is already gone is fine. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing left to kill.
  }
}

/**
 * Runs a command in a process group of its own (08 §6 limits): killed with the group at the timeout
 * or on abort, and once its main process has exited, so no background child outlives the run.
 * Output is read as it comes and capped per stream. Nothing here waits synchronously.
 */
export function runBounded(
  command: string,
  args: readonly string[],
  options: BoundedProcessOptions,
): Promise<BoundedOutcome> {
  const started = performance.now();
  const stdout = new CappedOutput(options.maxOutputBytes);
  const stderr = new CappedOutput(options.maxOutputBytes);
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, options.timeoutMs);
    const abort = () => killGroup(child.pid);
    options.signal?.addEventListener('abort', abort, { once: true });
    if (options.signal?.aborted) abort();
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));

    let exitCode: number | null = null;
    let grace: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(grace);
      options.signal?.removeEventListener('abort', abort);
      resolve({
        exitCode,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated || stderr.truncated,
        timedOut,
        durationMs: Math.round(performance.now() - started),
      });
    };
    child.once('error', (error) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', abort);
      reject(error);
    });
    child.once('exit', (code) => {
      exitCode = code;
      killGroup(child.pid);
      grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, STREAM_GRACE_MS);
    });
    child.once('close', finish);
  });
}

import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

/** `agnes serve` from dist/ as a child process, for process-level tests (10 §4). */

const AGNES = fileURLToPath(new URL('../../dist/bin/agnes.js', import.meta.url));

export interface ServeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: string;
  exited: Promise<ServeExit>;
}

export interface ServeProcessOptions {
  cwd: string;
  dataDir: string;
  configDir: string;
  jwtSecret: string;
  /** Called as soon as the process exists, so the caller can kill it even if startup fails. */
  onSpawn?: (server: ServeProcess) => void;
}

/** A GET without keep-alive: an idle pooled connection must not delay the server's shutdown. */
function answers(port: number, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(true));
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Starts `agnes serve` on a free loopback port and polls /api/health until it answers (25 s). */
export async function startServe(options: ServeProcessOptions): Promise<ServeProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: options.dataDir,
    CONFIG_DIR: options.configDir,
    JWT_SECRET_KEY: options.jwtSecret,
    LOG_LEVEL: 'warn',
  };
  for (const key of ['PATH', 'HOME', 'TMPDIR']) if (process.env[key]) env[key] = process.env[key];
  const child = spawn(process.execPath, [AGNES, 'serve', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: options.cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<ServeExit>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const server: ServeProcess = {
    child,
    port,
    get output() {
      return output;
    },
    exited,
  };
  options.onSpawn?.(server);
  const deadline = Date.now() + 25_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`agnes serve exited during startup: ${output}`);
    if (await answers(port, '/api/health')) return server;
    if (Date.now() > deadline) throw new Error(`agnes serve did not answer within 25 s: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

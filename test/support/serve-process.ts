import { request } from 'node:http';
import { freePort } from './ports.js';
import { type ChildRun, hostEnv, spawnAgnes } from './processes.js';

/** `agnes serve` from dist/ as a child process, for process-level tests (10 §4). */

export interface ServeProcess extends ChildRun {
  port: number;
}

export interface ServeProcessOptions {
  cwd: string;
  dataDir: string;
  configDir: string;
  jwtSecret: string;
  /** More variables, e.g. `DATABASE_URL`, or a `LOG_LEVEL` other than warn. */
  env?: Record<string, string>;
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
  const env = hostEnv({
    DATA_DIR: options.dataDir,
    CONFIG_DIR: options.configDir,
    JWT_SECRET_KEY: options.jwtSecret,
    LOG_LEVEL: 'warn',
    ...options.env,
  });
  const run = spawnAgnes(['serve', '--host', '127.0.0.1', '--port', String(port)], { cwd: options.cwd, env });
  const server: ServeProcess = Object.assign(run, { port });
  options.onSpawn?.(server);
  const { child } = server;
  const deadline = Date.now() + 25_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`agnes serve exited during startup: ${server.stdout}${server.stderr}`);
    if (await answers(port, '/api/health')) return server;
    if (Date.now() > deadline)
      throw new Error(`agnes serve did not answer within 25 s: ${server.stdout}${server.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A JSON request to a served process; `auth` is the whole `Authorization` value. */
export async function serveApi(
  server: ServeProcess,
  method: string,
  path: string,
  options: { auth?: string; body?: unknown } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response shapes
): Promise<{ status: number; body: any }> {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`, {
    method,
    headers: {
      ...(options.auth ? { authorization: options.auth } : {}),
      ...(options.body ? { 'content-type': 'application/json' } : {}),
    },
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { publishShop } from '../server/api/sync-fixtures.js';
import { type ChildRun, spawnNode } from './processes.js';
import { createUser, type ServerOptions, type TestServer, type TestUser, withServer } from './server.js';

/** The built `da` executable: tests run the real binary (run `npm run build` first). */
export const DA_BIN = fileURLToPath(new URL('../../dist/bin/da.js', import.meta.url));

export interface DaResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface DaOptions {
  /** Environment of the child, on top of a clean copy of this process's (no DA_* leaks in). */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed (stdin is never a TTY here). */
  input?: string;
  cwd?: string;
}

function childEnv(extra: DaOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('DA_') && key !== 'XDG_CONFIG_HOME') env[key] = value;
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Starts `node dist/bin/da.js ARGS`; for tests that signal the process. */
export function spawnDa(args: string[], options: DaOptions = {}): ChildRun {
  return spawnNode(DA_BIN, args, {
    env: childEnv(options.env),
    cwd: options.cwd,
    input: options.input ?? '',
  });
}

/** Runs `da ARGS` to completion and returns its exit code and output. */
export async function runDa(args: string[], options: DaOptions = {}): Promise<DaResult> {
  const run = spawnDa(args, options);
  const { code, signal } = await run.exited;
  return { code: code ?? (signal ? 128 : -1), stdout: run.stdout, stderr: run.stderr };
}

/** A private config directory and local data directory for one simulated laptop. */
export interface CliHome {
  root: string;
  configHome: string;
  /** `$XDG_CONFIG_HOME/da`. */
  configDir: string;
  localDir: string;
  /** XDG_CONFIG_HOME, DA_LOCAL_DIR and HOME pointing into `root`. */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function cliHome(): Promise<CliHome> {
  const root = await mkdtemp(join(tmpdir(), 'agnes-da-'));
  const configHome = join(root, 'config');
  const localDir = join(root, 'project');
  await mkdir(configHome, { recursive: true });
  await mkdir(localDir, { recursive: true });
  return {
    root,
    configHome,
    configDir: join(configHome, 'da'),
    localDir,
    env: { XDG_CONFIG_HOME: configHome, DA_LOCAL_DIR: localDir, HOME: root },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export const RAISED_LIMITS = { auth: { rate_limits: { default: { max: 100_000, window_seconds: 60 } } } };

/**
 * A real server on loopback with the small shop fixture published (`publishShop`: `orders`,
 * three-shard `events`, public `holidays`, remote `clicks`, private `salaries`, …), an admin and an
 * analyst who may read `orders` and the `web` bucket (`events`, `clicks`) besides public `holidays`.
 */
export interface CliServer {
  server: TestServer;
  admin: TestUser;
  analyst: TestUser;
  close(): Promise<void>;
}

export async function withCliServer(options: ServerOptions = {}): Promise<CliServer> {
  const server = await withServer({ ...options, config: { ...RAISED_LIMITS, ...options.config } });
  await publishShop(server.ctx, server.dataDir);
  const admin = await createUser(server.ctx, 'admin');
  const analyst = await createUser(server.ctx, 'analyst');
  for (const dataset of ['orders', 'web.*'])
    await server.ctx.repos.permissions.grantUser(analyst.id, {
      dataset,
      access: 'read',
      granted_by: admin.id,
    });
  return { server, admin, analyst, close: () => server.close() };
}

/** Stores `user`'s PAT for `url` in `home` through `da auth login --token` (fast: no password hashing). */
export async function loginWithToken(home: CliHome, url: string, user: TestUser): Promise<DaResult> {
  const result = await runDa(['auth', 'login', '--server', url, '--token', '-'], {
    env: home.env,
    input: user.pat,
  });
  if (result.code !== 0) throw new Error(`da auth login failed: ${result.stderr}`);
  return result;
}

/** `da ARGS --json` as `home`, parsed; throws with the output when it exits non-zero. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
export async function daJson(home: CliHome, ...args: string[]): Promise<any> {
  const result = await runDa([...args, '--json'], { env: home.env });
  if (result.code !== 0)
    throw new Error(`da ${args.join(' ')} exited ${result.code}: ${result.stdout}${result.stderr}`);
  return JSON.parse(result.stdout);
}

/**
 * A served instance (`withCliServer`) with its admin and analyst logged in through `da`, each in a
 * HOME of their own: started before the suite's tests, closed after them.
 */
export function useAdminCli(): {
  readonly fixture: CliServer;
  readonly admin: CliHome;
  readonly analyst: CliHome;
} {
  let fixture: CliServer;
  let admin: CliHome;
  let analyst: CliHome;
  beforeAll(async () => {
    fixture = await withCliServer();
    admin = await cliHome();
    analyst = await cliHome();
    await loginWithToken(admin, fixture.server.url, fixture.admin);
    await loginWithToken(analyst, fixture.server.url, fixture.analyst);
  });
  afterAll(async () => {
    await fixture.close();
    await admin.cleanup();
    await analyst.cleanup();
  });
  return {
    get fixture() {
      return fixture;
    },
    get admin() {
      return admin;
    },
    get analyst() {
      return analyst;
    },
  };
}

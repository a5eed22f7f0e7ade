import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { stringify } from 'yaml';
import { BUILT_IN_CONNECTORS } from '../../src/connectors/index.js';
import { loadConfig } from '../../src/core/config/index.js';
import { configuredSources, type SourceDefinition } from '../../src/core/config/sources.js';
import { type Connector, ConnectorRegistry } from '../../src/core/extract/connector.js';
import type { AttachRemote } from '../../src/core/extract/remote-attach.js';
import type { ExtractorCommand } from '../../src/core/jobs/extract-child.js';
import { AGNES_BIN } from '../../src/core/package-info.js';
import type { Role } from '../../src/core/state/schema.js';
import type { Clock } from '../../src/core/time.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime/runtime.js';
import { type AgnesApp, buildApp } from '../../src/server/app.js';
import { hashPassword } from '../../src/server/auth/passwords.js';
import { generatePat } from '../../src/server/auth/pat.js';
import { loggerOptions } from '../../src/server/logger.js';

export const TEST_JWT_SECRET = 'test-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export interface ServerOptions {
  /** instance.yaml content. */
  config?: Record<string, unknown>;
  /** Environment seen by config resolution (no process env leaks in). */
  env?: Record<string, string>;
  sources?: SourceDefinition[];
  /** Collects every log line, for tests that check what logs contain. */
  logs?: string[];
  /** An existing data directory to reuse (otherwise a fresh temp dir). */
  dataDir?: string;
  /** A fixed port, for clients that need the public URL in the configuration (browsers: CSRF origin). */
  port?: number;
  /** Connectors besides the built-in ones (test-only types), or in place of the built-in of the same type. */
  connectors?: readonly Connector[];
  /** Start the runtime's services (the job runner) when the app is ready; off by default. */
  startServices?: boolean;
  /** Routes a test adds before the app listens. */
  extend?: (app: AgnesApp) => void;
  /** The extractor child of sync jobs; `agnes extract --stdin-config` unless a test runs its own. */
  extractor?: ExtractorCommand;
  /** The remote-catalog seam of the orchestrator and the query sandboxes (a DuckDB file in tests). */
  attachRemote?: AttachRemote;
  /** The app's clock (the system clock unless a test drives time by hand). */
  clock?: Clock;
  /** Services beside the built-in ones, such as the in-process scheduler. */
  services?: RuntimeOptions['services'];
}

export interface TestServer {
  url: string;
  app: AgnesApp;
  ctx: Runtime;
  dataDir: string;
  close(): Promise<void>;
}

/** The real app on a random loopback port, with a fresh DATA_DIR and explicit configuration. */
export async function withServer(options: ServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'agnes-server-')));
  const configPath = join(dataDir, 'instance.yaml');
  await writeFile(configPath, stringify(options.config ?? {}));
  const env: Record<string, string> = { JWT_SECRET_KEY: TEST_JWT_SECRET, ...options.env };
  // A listed connector of a built-in type replaces it (a built-in with test timings).
  const extra = options.connectors ?? [];
  const connectors = [...BUILT_IN_CONNECTORS.filter((c) => !extra.some((e) => e.type === c.type)), ...extra];
  const loaded = loadConfig({ env, configPath, dataDir, cwd: dataDir, connectors });
  const logs = options.logs;
  const log = pino(
    loggerOptions(logs ? 'trace' : 'silent'),
    logs ? { write: (line: string) => void logs.push(line) } : undefined,
  );
  const ctx = await createRuntime({
    config: loaded.config,
    dataDir,
    secrets: {
      current: env.JWT_SECRET_KEY ?? TEST_JWT_SECRET,
      previous: env.JWT_SECRET_KEY_PREVIOUS ?? null,
    },
    connectors: new ConnectorRegistry(connectors),
    sources: options.sources ?? configuredSources(loaded.config, connectors, dataDir, env),
    extractor: options.extractor ?? {
      command: process.execPath,
      args: [AGNES_BIN, 'extract', '--stdin-config'],
    },
    log,
    env,
    ...(options.attachRemote ? { attachRemote: options.attachRemote } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.services ? { services: options.services } : {}),
  });
  await ctx.orchestrator.rebuild();
  const app = await buildApp(ctx, { startServices: options.startServices ?? false });
  options.extend?.(app);
  const address = await app.listen({ host: '127.0.0.1', port: options.port ?? 0 });
  return {
    url: address,
    app,
    ctx,
    dataDir,
    async close() {
      await app.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  role: Role;
  /** A personal access token of this user. */
  pat: string;
  /** `Authorization` header value using the PAT. */
  auth: string;
}

let counter = 0;

/** A user with a password (Argon2id) and a PAT, created straight in the state store. */
export async function createUser(
  ctx: Pick<Runtime, 'repos'>,
  role: Role,
  options: { email?: string; service?: boolean; active?: boolean; password?: string } = {},
): Promise<TestUser> {
  counter += 1;
  const email = options.email ?? `${role}-${counter}-${Date.now()}@example.com`;
  const password = options.password ?? `Corr3ct-Horse-${counter}-Battery`;
  const user = await ctx.repos.users.create({
    email,
    role,
    name: `${role} ${counter}`,
    password_hash: await hashPassword(password),
    is_service: options.service ?? false,
    active: options.active ?? true,
  });
  const pat = generatePat();
  await ctx.repos.tokens.create({
    user_id: user.id,
    name: 'test',
    token_hash: pat.hash,
    prefix: pat.prefix,
    expires_at: new Date(Date.now() + 86_400_000).toISOString(),
  });
  return { id: user.id, email: user.email, password, role, pat: pat.token, auth: `Bearer ${pat.token}` };
}

/** JSON request helper: returns status, headers and the parsed body (or text). */
export async function call(
  server: Pick<TestServer, 'url'>,
  method: string,
  path: string,
  options: {
    auth?: string;
    body?: unknown;
    headers?: Record<string, string>;
    form?: Record<string, string>;
  } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response shapes
): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.auth) headers.authorization = options.auth;
  let body: string | undefined;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(options.form).toString();
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  const response = await fetch(`${server.url}${path}`, { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

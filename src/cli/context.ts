import { resolve } from 'node:path';
import { PACKAGE_VERSION } from '../core/package-info.js';
import { ApiClient } from './client.js';
import { CliError, EXIT } from './errors.js';
import { type Credential, LocalStore, normaliseServer } from './local-store.js';
import { Output, wantsColor } from './output.js';

export interface GlobalOptions {
  server?: string;
  json?: boolean;
  quiet?: boolean;
  localDir?: string;
  color?: boolean;
  verbose?: boolean;
}

export interface CliContext {
  options: GlobalOptions;
  env: NodeJS.ProcessEnv;
  store: LocalStore;
  out: Output;
  /** Resolved local data root (flag > DA_LOCAL_DIR > current directory). */
  localDir: string;
}

export const USER_AGENT = `da/${PACKAGE_VERSION} (node ${process.version}; ${process.platform})`;

export function cliContext(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): CliContext {
  const out = new Output({
    json: Boolean(options.json),
    quiet: Boolean(options.quiet),
    color: wantsColor(options.color, env),
  });
  return {
    options,
    env,
    store: new LocalStore(env),
    out,
    localDir: resolve(options.localDir ?? env.DA_LOCAL_DIR ?? process.cwd()),
  };
}

/** The server for this invocation: --server > DA_SERVER > config.json (06 §1). */
export async function resolveServer(ctx: CliContext): Promise<string> {
  const configured = ctx.options.server ?? ctx.env.DA_SERVER ?? (await ctx.store.readConfig()).server;
  if (!configured) {
    throw new CliError(
      EXIT.usage,
      'no server configured; run: da auth login --server URL (or set DA_SERVER)',
      'no_server',
    );
  }
  try {
    return normaliseServer(configured);
  } catch {
    throw new CliError(EXIT.usage, `invalid server URL: ${configured}`, 'invalid_server');
  }
}

export interface Connection {
  server: string;
  client: ApiClient;
  credential: Credential | null;
}

/**
 * A client for the resolved server. DA_TOKEN wins over the stored credential everywhere (06 §1 invocation and global options);
 * a stored token is only ever sent to the server it was issued by.
 */
export async function connect(ctx: CliContext, options: { requireAuth?: boolean } = {}): Promise<Connection> {
  const server = await resolveServer(ctx);
  const stored = await ctx.store.credentialFor(server);
  for (const warning of ctx.store.warnings.splice(0)) ctx.out.warn(warning);
  const token = ctx.env.DA_TOKEN || stored?.token || null;
  if (options.requireAuth && !token) {
    throw new CliError(
      EXIT.unauthenticated,
      `not signed in to ${server}; run: da auth login`,
      'not_authenticated',
    );
  }
  const client = new ApiClient({ server, token, userAgent: USER_AGENT, verbose: ctx.options.verbose });
  return { server, client, credential: stored };
}

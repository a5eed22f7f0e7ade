import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { MeResponse } from '../../contract/index.js';
import { defaultSection } from '../../core/config/schema.js';
import { errorMessage } from '../../core/errors.js';
import { createMcpServer } from '../../core/mcp/server.js';
import { PACKAGE_VERSION } from '../../core/package-info.js';
import { loadSkills } from '../../core/skills.js';
import type { ApiClient } from '../client.js';
import { type CliContext, connect } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { cliBackend } from '../mcp/backend.js';
import { LocalQueryEngine } from '../mcp/local-engine.js';
import { syncedTables } from '../mcp/synced.js';

/**
 * The credential is checked before serving (14 §4): none, or refused by the server → exit 3. A
 * server that cannot be reached does not stop `da mcp`: local queries still work.
 */
async function signedIn(ctx: CliContext, client: ApiClient): Promise<MeResponse | null> {
  try {
    return await client.json<MeResponse>('GET', '/auth/me');
  } catch (error) {
    if (error instanceof CliError && error.exitCode === EXIT.unauthenticated) throw error;
    ctx.out.warn(`${errorMessage(error)}; only local queries will work until the server answers`);
    return null;
  }
}

/** Resolves when stdin ends (the client went away) or the process is asked to stop. */
function untilDone(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}

/**
 * `da mcp` (14 §4): the MCP server over stdio for an agent on this laptop, newline-delimited
 * JSON-RPC on stdin and stdout. Nothing else is ever written to stdout; diagnostics go to stderr.
 */
export async function mcp(ctx: CliContext): Promise<number> {
  const { client, server } = await connect(ctx, { requireAuth: true });
  const me = await signedIn(ctx, client);
  const statePath = ctx.store.syncStatePath(server, ctx.localDir);
  const limits = defaultSection('mcp');
  const settings = defaultSection('query');
  const engine = await LocalQueryEngine.open({
    settings,
    localDir: ctx.localDir,
    // The sync state is outside every allow-list: the lock-down self-check must fail to read it.
    probePath: statePath,
    onPossibleBypass: (message) =>
      process.stderr.write(
        `da mcp: a local query was refused inside the engine: ${message.split('\n')[0]}\n`,
      ),
  });
  const backend = cliBackend({
    client,
    engine,
    role: me?.role ?? null,
    synced: () => syncedTables(statePath, server, ctx.localDir),
  });
  const mcpServer = createMcpServer(backend, {
    version: PACKAGE_VERSION,
    limits: {
      maxLimit: settings.max_limit,
      defaultLimit: limits.default_limit,
      maxResultChars: limits.max_result_chars,
    },
    guides: loadSkills,
    onUnexpected: (error) => process.stderr.write(`da mcp: ${errorMessage(error)}\n`),
  });
  const done = untilDone();
  await mcpServer.connect(new StdioServerTransport());
  const who = me ? ` as ${me.email} (role ${me.role})` : '';
  process.stderr.write(`da mcp: serving Agnes at ${server}${who} on stdio\n`);
  await done;
  await mcpServer.close();
  engine.close();
  // Stdin may still be open after a signal; nothing more is read from it.
  process.stdin.destroy();
  return EXIT.ok;
}
